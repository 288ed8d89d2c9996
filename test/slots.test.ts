import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createSlots } from '../src/slots';

/** A task that runs until `finish()` is called. */
function gate() {
  let finish = () => {};
  const done = new Promise<void>((resolve) => (finish = resolve));
  return { task: () => done, finish: () => finish() };
}

describe('slots', () => {
  it('runs at most `size` tasks at once, the rest in order', async () => {
    const slots = createSlots(2);
    const started: number[] = [];
    const gates = [gate(), gate(), gate(), gate()];
    const runs = gates.map((g, i) =>
      slots.run(async () => {
        started.push(i);
        await g.task();
      }),
    );
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(started, [0, 1]);
    gates[1]!.finish();
    await runs[1];
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(started, [0, 1, 2]);
    gates[0]!.finish();
    gates[2]!.finish();
    gates[3]!.finish();
    await Promise.all(runs);
    assert.deepEqual(started, [0, 1, 2, 3]);
  });

  it('gives up a waiting turn at once when its signal aborts, and the slot goes to the next in line', async () => {
    const slots = createSlots(1);
    const first = gate();
    const running = slots.run(first.task);
    const controller = new AbortController();
    let abortedRan = false;
    const aborted = slots.run(async () => {
      abortedRan = true;
    }, controller.signal);
    let nextRan = false;
    const next = slots.run(async () => {
      nextRan = true;
    });
    controller.abort(new Error('cancelled'));
    await assert.rejects(aborted, /cancelled/);
    assert.equal(abortedRan, false);
    assert.equal(nextRan, false, 'the running task still holds the one slot');
    first.finish();
    await running;
    await next;
    assert.equal(nextRan, true);
    assert.equal(abortedRan, false);
    // The slot is free again: a new task runs at once.
    await slots.run(async () => undefined);
  });

  it('refuses at once a task whose signal is already aborted, when it would have to wait', async () => {
    const slots = createSlots(1);
    const first = gate();
    const running = slots.run(first.task);
    await assert.rejects(slots.run(async () => 1, AbortSignal.abort(new Error('gone'))), /gone/);
    first.finish();
    await running;
  });
});
