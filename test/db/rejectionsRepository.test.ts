import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { collections } from '../../src/db/collections';
import { newId } from '../../src/db/ids';
import { createRejectionsRepository, type RejectionsRepository } from '../../src/db/rejectionsRepository';
import { SUBFOLDER_HINT } from '../../src/domain/mappingState';
import type { ListedFolder } from '../../src/domain/types';
import { openTestDb, type TestDb } from './testDb';

const T0 = new Date('2024-06-01T00:00:00Z');
const T1 = new Date('2024-06-01T00:05:00Z');

const badFile = (i: number) => ({
  id: `id:bad${i}`,
  name: `plan#${i}?.pdf`,
  pathDisplay: `/Plans/plan#${i}?.pdf`,
  pathLower: `/plans/plan#${i}?.pdf`,
  characters: ['#', '?'],
});
const folder = (i: number): ListedFolder => ({
  id: `id:dir${i}`,
  name: `Sub ${i}`,
  pathDisplay: `/Plans/Sub ${i}`,
  pathLower: `/plans/sub ${i}`,
});

describe('rejections repository', () => {
  let t: TestDb;
  let rejections: RejectionsRepository;
  const newMapping = () => ({ id: newId(), projectId: 'project-1' });

  before(async () => {
    t = await openTestDb('rejections');
    rejections = createRejectionsRepository(t.db);
  });
  after(async () => {
    await t?.close();
  });

  it('rejects a file named "plan#1?.pdf" and records the characters, once however often it is seen', async () => {
    const mapping = newMapping();
    await rejections.recordSpecialCharacters(mapping, [badFile(1)], 1, T0);
    await rejections.recordSpecialCharacters(mapping, [badFile(1)], 1, T1);
    const { rejections: all } = await rejections.list(mapping.id, { limit: 10 });
    assert.equal(all.length, 1);
    const [r] = all;
    assert.equal(r?._id, `${mapping.id}:id:bad1`);
    assert.equal(r?.kind, 'special_characters');
    assert.deepEqual(r?.characters, ['#', '?']);
    assert.equal(r?.path, '/Plans/plan#1?.pdf');
    assert.match(r?.reason ?? '', /"#", "\?"/u);
    assert.equal(r?.hint, undefined);
    assert.equal(r?.firstSeenAt.getTime(), T0.getTime());
    assert.equal(r?.lastSeenAt.getTime(), T1.getTime());
  });

  it('records each skipped subfolder with the hint to map it, idempotently', async () => {
    const mapping = newMapping();
    await rejections.recordSkippedFolders(mapping, [folder(1), folder(2)], 1, T0);
    await rejections.recordSkippedFolders(mapping, [folder(1), folder(2)], 1, T1);
    const { rejections: all } = await rejections.list(mapping.id, { limit: 10, kind: 'subfolder' });
    assert.equal(all.length, 2);
    for (const r of all) {
      assert.equal(r.hint, SUBFOLDER_HINT);
      assert.deepEqual(r.characters, []);
      assert.ok(r.reason.length > 0);
    }
    assert.deepEqual(await rejections.counts(mapping.id), { rejections: 0, skippedFolders: 2 });
  });

  it('counts rejected files (special characters, too large) and skipped subfolders apart, per mapping', async () => {
    const mapping = newMapping();
    await rejections.recordSpecialCharacters(mapping, [badFile(1), badFile(2), badFile(3)], 1, T0);
    await rejections.recordSkippedFolders(mapping, [folder(1)], 1, T0);
    await rejections.recordSpecialCharacters(newMapping(), [badFile(1)], 1, T0);
    assert.deepEqual(await rejections.counts(mapping.id), { rejections: 3, skippedFolders: 1 });
    await rejections.recordTooLarge(
      {
        mappingId: mapping.id,
        projectId: mapping.projectId,
        dropboxId: 'id:huge',
        name: 'model.ifc',
        path: '/Plans/model.ifc',
        pathLower: '/plans/model.ifc',
        size: 11,
      },
      10,
      T0,
    );
    assert.deepEqual(await rejections.counts(mapping.id), { rejections: 4, skippedFolders: 1 });
  });

  it('after a full listing, removes the refused names and subfolders it did not see; too_large stays for its file', async () => {
    const mapping = newMapping();
    await rejections.recordSpecialCharacters(mapping, [badFile(1), badFile(2)], 1, T0);
    await rejections.recordSkippedFolders(mapping, [folder(1), folder(2)], 1, T0);
    const huge = { mappingId: mapping.id, projectId: mapping.projectId, dropboxId: 'id:huge', name: 'm.ifc', path: '/Plans/m.ifc', pathLower: '/plans/m.ifc', size: 11 };
    await rejections.recordTooLarge(huge, 10, T0);
    const other = newMapping();
    await rejections.recordSpecialCharacters(other, [badFile(3)], 1, T0);
    // The next full listing (generation 2) sees one name and one subfolder again.
    await rejections.recordSpecialCharacters(mapping, [badFile(1)], 2, T1);
    await rejections.recordSkippedFolders(mapping, [folder(2)], 2, T1);
    assert.equal(await rejections.sweepUnseen(mapping.id, 2), 2);
    const { rejections: left } = await rejections.list(mapping.id, { limit: 10 });
    assert.deepEqual(left.map((r) => r.dropboxId).sort(), [badFile(1).id, folder(2).id, 'id:huge'].sort());
    assert.deepEqual(await rejections.tooLargeIds(mapping.id), ['id:huge']);
    assert.deepEqual(await rejections.counts(other.id), { rejections: 1, skippedFolders: 0 }, 'other mappings untouched');
  });

  it('an entry deleted or renamed away loses its rejection; a file renamed to a good name too', async () => {
    const mapping = newMapping();
    await rejections.recordSpecialCharacters(mapping, [badFile(1), badFile(2), badFile(3)], 1, T0);
    await rejections.recordSkippedFolders(mapping, [folder(1)], 1, T0);
    assert.equal(
      await rejections.removeByPaths(mapping.id, [badFile(1).pathLower, folder(1).pathLower, '/plans/x']),
      2,
    );
    assert.equal(await rejections.removeByIds(mapping.id, [badFile(2).id]), 1);
    assert.equal(await rejections.removeByIds(mapping.id, []), 0);
    assert.equal(await rejections.removeByPaths(mapping.id, []), 0);
    const { rejections: left } = await rejections.list(mapping.id, { limit: 10 });
    assert.deepEqual(
      left.map((r) => r.dropboxId),
      [badFile(3).id],
    );
  });

  it('pages through rejections by _id, filtered by kind', async () => {
    const mapping = newMapping();
    await rejections.recordSpecialCharacters(
      mapping,
      Array.from({ length: 5 }, (_, i) => badFile(i)),
      1,
      T0,
    );
    await rejections.recordSkippedFolders(mapping, [folder(1)], 1, T0);
    const first = await rejections.list(mapping.id, { limit: 3, kind: 'special_characters' });
    assert.equal(first.rejections.length, 3);
    assert.ok(first.next);
    const second = await rejections.list(mapping.id, {
      limit: 3,
      kind: 'special_characters',
      after: first.next,
    });
    assert.equal(second.rejections.length, 2);
    assert.equal(second.next, null);
    const all = await rejections.list(mapping.id, { limit: 100 });
    assert.equal(all.rejections.length, 6);
  });

  it('re-records more entries than one write command may carry on FerretDB', async () => {
    const mapping = newMapping();
    const many = Array.from({ length: 120 }, (_, i) => badFile(i));
    await rejections.recordSpecialCharacters(mapping, many, 1, T0);
    await rejections.recordSpecialCharacters(mapping, many, 1, T1);
    assert.deepEqual(await rejections.counts(mapping.id), { rejections: 120, skippedFolders: 0 });
    assert.equal(
      await collections(t.db).rejections.countDocuments({ mappingId: mapping.id, lastSeenAt: T1 }),
      120,
    );
  });
});
