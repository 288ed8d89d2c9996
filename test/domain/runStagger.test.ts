import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newId } from '../../src/db/ids';
import { runShortening } from '../../src/domain/runStagger';

describe('run stagger', () => {
  it('is the same for the same mapping, and within 0 to cyclesPerRun - 1', () => {
    for (const id of ['6750a1b2c3d4e5f601234567', 'a', '']) {
      const first = runShortening(id, 12);
      assert.equal(runShortening(id, 12), first);
      assert.ok(first >= 0 && first < 12, `${id}: ${first}`);
    }
  });

  for (const [kind, idOf] of [
    ['mapping ids as the product makes them', () => newId()],
    ['ids that differ only in their last digits', (i: number) => `6750a1b2c3d4e5f601${(0x100000 + i).toString(16).slice(1)}`],
  ] as const) {
    it(`spreads 5,000 ${kind} evenly over the intervals of a run`, () => {
      const counts = new Array<number>(4).fill(0);
      for (let i = 0; i < 5_000; i++) counts[runShortening(idOf(i), 4)]! += 1;
      for (const count of counts) assert.ok(count > 1_100 && count < 1_400, `per interval: ${counts.join(', ')}`);
    });
  }

  it('never shortens a run of one cycle, or a run length that is not a whole number', () => {
    assert.equal(runShortening('6750a1b2c3d4e5f601234567', 1), 0);
    assert.equal(runShortening('6750a1b2c3d4e5f601234567', 2.5), 0);
  });
});
