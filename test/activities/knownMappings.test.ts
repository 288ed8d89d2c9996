import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createKnownMappings, MAPPING_RECHECK_MS } from '../../src/activities/knownMappings';
import { FailureTypes } from '../../src/domain/failureTypes';
import type { MappingState } from '../../src/domain/mappingState';
import type { MappingRead } from '../../src/activities/knownMappings';
import { failureOf } from '../support/failures';

function mapping(id: string, state: MappingState = 'active'): MappingRead {
  return { _id: id, connectionId: `c-${id}`, dropboxPath: `/Folder ${id}`, state, orgId: 'o1' } as MappingRead;
}

/** A store of mappings that counts its reads. */
function store(...initial: MappingRead[]) {
  const docs = new Map(initial.map((m) => [m._id, m]));
  const reads: string[] = [];
  return {
    docs,
    reads,
    read: async (id: string) => (reads.push(id), docs.get(id) ?? null),
  };
}

describe('the mappings a worker knows', () => {
  it('reads a mapping once per recheck period and keeps only what a cycle needs', async () => {
    const db = store(mapping('m1'), mapping('m2'));
    let now = 0;
    const known = createKnownMappings(db.read, { now: () => now, random: () => 0 });
    assert.deepEqual(await known.get('m1'), { _id: 'm1', connectionId: 'c-m1', dropboxPath: '/Folder m1', orgId: 'o1' });
    now = MAPPING_RECHECK_MS - 1;
    await known.get('m1');
    await known.get('m2');
    assert.deepEqual(db.reads, ['m1', 'm2']);
    now = MAPPING_RECHECK_MS;
    await known.get('m1');
    await known.get('m2');
    assert.deepEqual(db.reads, ['m1', 'm2', 'm1'], 'm2 was read later, so it is still fresh');
  });

  it('fails as MappingGone for a mapping missing or unmapped, and reads it again next time', async () => {
    const db = store(mapping('gone', 'unmapped'), mapping('failed', 'failed'));
    const known = createKnownMappings(db.read, { now: () => 0 });
    for (const id of ['missing', 'gone', 'gone']) {
      const failure = await failureOf(known.get(id));
      assert.equal(failure.type, FailureTypes.mappingGone);
      assert.equal(failure.nonRetryable, true);
    }
    assert.deepEqual(db.reads, ['missing', 'gone', 'gone'], 'a failed read is not kept');
    assert.equal((await known.get('failed'))._id, 'failed', 'a failed mapping is still live: it can recover');
  });

  it('notices a mapping unmapped behind its workflow at the first read after the period', async () => {
    const db = store(mapping('m1'));
    let now = 0;
    const known = createKnownMappings(db.read, { now: () => now, recheckMs: 1_000, random: () => 0 });
    await known.get('m1');
    db.docs.set('m1', mapping('m1', 'unmapped'));
    await known.get('m1');
    now = 1_000;
    assert.equal((await failureOf(known.get('m1'))).type, FailureTypes.mappingGone);
  });

  it('trusts a first read for a random part of the period, and each recheck for the whole of it', async () => {
    const db = store(mapping('m1'));
    let now = 0;
    const known = createKnownMappings(db.read, { now: () => now, recheckMs: 1_000, random: () => 0.75 });
    await known.get('m1');
    now = 249;
    await known.get('m1');
    assert.equal(db.reads.length, 1);
    now = 250;
    await known.get('m1');
    now = 1_249;
    await known.get('m1');
    assert.equal(db.reads.length, 2, 'the recheck at 250 is trusted for the whole period');
    now = 1_250;
    await known.get('m1');
    assert.equal(db.reads.length, 3);
  });

  it('spreads the rechecks of a worker that read every mapping in its first interval over the hour', async () => {
    const mappings = 5_000;
    const interval = 5 * 60_000;
    /** Reads per poll interval over three hours, each mapping cycling once an interval. */
    async function readsPerInterval(random: () => number): Promise<number[]> {
      const db = store(...Array.from({ length: mappings }, (_, i) => mapping(`m${i}`)));
      let now = 0;
      const known = createKnownMappings(db.read, { now: () => now, random });
      const counts: number[] = [];
      for (let k = 0; k < 36; k += 1) {
        const before = db.reads.length;
        for (let i = 0; i < mappings; i += 1) {
          now = k * interval + (i * interval) / mappings;
          await known.get(`m${i}`);
        }
        counts.push(db.reads.length - before);
      }
      return counts;
    }
    const trustedWhole = await readsPerInterval(() => 0);
    assert.deepEqual(new Set(trustedWhole.slice(1)), new Set([0, mappings]), 'without the spread, all at once hourly');

    let seed = 7;
    const seeded = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    const spread = (await readsPerInterval(seeded)).slice(1);
    const perHour = mappings / 12;
    assert.ok(Math.max(...spread) < 1.5 * perHour, `busiest interval: ${Math.max(...spread)} reads`);
    const later = spread.slice(11).reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(later - 2 * mappings) < 0.05 * mappings, `${later} reads in the last two hours`);
  });
});
