import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  fileRecordId,
  listedFields,
  newestPerId,
  planListedFiles,
  type StoredFile,
} from '../../src/db/filePlan';
import { listedFile } from './listedFiles';

const mapping = { id: 'm1', projectId: 'p1' };
const NOW = new Date('2024-06-01T00:00:00Z');

function storedFrom(
  i: number,
  generation: number,
  overrides: Partial<StoredFile> = {},
): [string, StoredFile] {
  const file = listedFile(i);
  const { updatedAt: _updatedAt, ...fields } = listedFields(file, generation, NOW);
  const _id = fileRecordId(mapping.id, file.id);
  return [_id, { _id, ...fields, ...overrides }];
}

describe('planning the writes for a page of listed files (no database)', () => {
  it('inserts unknown files, leaves identical ones alone, updates changed ones', () => {
    const stored = new Map([storedFrom(1, 1), storedFrom(2, 1)]);
    const page = [
      listedFile(1),
      listedFile(2, { rev: 'newer', serverModified: '2024-05-02T00:00:00Z' }),
      listedFile(3),
    ];
    const plan = planListedFiles(mapping, page, 1, NOW, stored);
    assert.deepEqual(
      plan.inserts.map((r) => r._id),
      ['m1:id:000003'],
    );
    assert.deepEqual(
      plan.updates.map((u) => u._id),
      ['m1:id:000002'],
    );
    assert.deepEqual(plan.stamps, []);
    assert.equal(plan.unchanged, 1);
  });

  it('an identical file seen by a new listing is only stamped with that listing', () => {
    const plan = planListedFiles(mapping, [listedFile(1)], 2, NOW, new Map([storedFrom(1, 1)]));
    assert.deepEqual(plan.stamps, ['m1:id:000001']);
    assert.equal(plan.unchanged, 1);
    assert.equal(plan.updates.length, 0);
  });

  it('an older rev is unchanged; it is stamped while live and ignored once deleted', () => {
    const older = listedFile(1, { rev: 'old', serverModified: '2024-04-01T00:00:00Z' });
    const live = planListedFiles(mapping, [older], 2, NOW, new Map([storedFrom(1, 1)]));
    assert.deepEqual([live.updates.length, live.stamps.length, live.unchanged], [0, 1, 1]);
    const deleted = planListedFiles(
      mapping,
      [older],
      2,
      NOW,
      new Map([storedFrom(1, 1, { deletedAt: NOW })]),
    );
    assert.deepEqual([deleted.updates.length, deleted.stamps.length, deleted.unchanged], [0, 0, 1]);
  });

  it('a deleted file listed again with the same rev is brought back', () => {
    const plan = planListedFiles(
      mapping,
      [listedFile(1)],
      1,
      NOW,
      new Map([storedFrom(1, 1, { deletedAt: NOW })]),
    );
    assert.equal(plan.updates.length, 1);
    assert.equal(plan.updates[0]?.fields.deletedAt, null);
  });

  it('keeps the newest entry when a page holds the same file twice', () => {
    const a = listedFile(1, { rev: 'b', serverModified: '2024-05-03T00:00:00Z' });
    const b = listedFile(1, { rev: 'a', serverModified: '2024-05-01T00:00:00Z' });
    assert.deepEqual(
      newestPerId([a, b]).map((f) => f.rev),
      ['b'],
    );
    assert.deepEqual(
      newestPerId([b, a]).map((f) => f.rev),
      ['b'],
    );
  });

  it('refuses an entry whose server time is not a date', () => {
    assert.throws(() => listedFields(listedFile(1, { serverModified: 'yesterday' }), 1, NOW), TypeError);
  });
});
