import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createKnownMappings, MAPPING_RECHECK_MS } from '../../src/activities/knownMappings';
import { FailureTypes } from '../../src/domain/failureTypes';
import type { MappingState } from '../../src/domain/mappingState';
import type { Mapping } from '../../src/domain/types';
import { failureOf } from '../support/failures';

function mapping(id: string, state: MappingState = 'active'): Mapping {
  return { _id: id, connectionId: `c-${id}`, dropboxPath: `/Folder ${id}`, state } as Mapping;
}

/** A store of mappings that counts its reads. */
function store(...initial: Mapping[]) {
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
    const known = createKnownMappings(db.read, () => now);
    assert.deepEqual(await known.get('m1'), { _id: 'm1', connectionId: 'c-m1', dropboxPath: '/Folder m1' });
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
    const known = createKnownMappings(db.read, () => 0);
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
    const known = createKnownMappings(db.read, () => now, 1_000);
    await known.get('m1');
    db.docs.set('m1', mapping('m1', 'unmapped'));
    await known.get('m1');
    now = 1_000;
    assert.equal((await failureOf(known.get('m1'))).type, FailureTypes.mappingGone);
  });
});
