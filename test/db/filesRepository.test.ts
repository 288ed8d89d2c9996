import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { collections } from '../../src/db/collections';
import { createFileContentsRepository } from '../../src/db/fileContentsRepository';
import { createFilesRepository, type FilesRepository } from '../../src/db/filesRepository';
import { newId } from '../../src/db/ids';
import { listedFile, listedFiles } from './listedFiles';
import { openTestDb, type TestDb } from './testDb';

const T0 = new Date('2024-06-01T00:00:00Z');
const later = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);

describe('files repository', () => {
  let t: TestDb;
  let files: FilesRepository;
  const newMapping = () => ({ id: newId(), projectId: 'project-1' });
  // FerretDB (SQLite) scans the whole collection for every update: big tests clean up after
  // themselves so the small ones stay quick.
  const forget = async (mappingId: string) => {
    await collections(t.db).files.deleteMany({ mappingId });
    await collections(t.db).contents.deleteMany({ mappingId });
    await collections(t.db).pendingContents.deleteMany({ mappingId });
  };

  before(async () => {
    t = await openTestDb('files');
    files = createFilesRepository(t.db);
  });
  after(async () => {
    await t?.close();
  });

  it('records 5,000 new files once; persisting the same files again adds no duplicates and reports them unchanged', async () => {
    const mapping = newMapping();
    const page = listedFiles(5000);
    assert.deepEqual(await files.upsertListedFiles(mapping, page, 1, T0), {
      added: 5000,
      updated: 0,
      unchanged: 0,
    });
    assert.deepEqual(await files.upsertListedFiles(mapping, page, 1, later(5)), {
      added: 0,
      updated: 0,
      unchanged: 5000,
    });
    assert.equal(await collections(t.db).files.countDocuments({ mappingId: mapping.id }), 5000);
    assert.equal(await files.countLive(mapping.id), 5000);
    const one = await collections(t.db).files.findOne({ _id: `${mapping.id}:${page[42]!.id}` });
    assert.equal(one?.syncedAt.getTime(), T0.getTime(), 'syncedAt is the first time only');
    assert.equal(one?.updatedAt.getTime(), T0.getTime(), 'nothing changed, so nothing was updated');
    await forget(mapping.id);
  });

  it('a page recorded in several insert commands counts files already recorded in any of them', async () => {
    const mapping = newMapping();
    // Recorded before: files in the first, second and third 500-record parts of the next page.
    const before = [listedFile(3), listedFile(700), listedFile(1100, { rev: '0150aff' })];
    await files.upsertListedFiles(mapping, before, 1, T0);
    const page = listedFiles(1200);
    assert.deepEqual(await files.upsertListedFiles(mapping, page, 1, later(5)), { added: 1197, updated: 1, unchanged: 2 });
    assert.equal(await collections(t.db).files.countDocuments({ mappingId: mapping.id }), 1200);
    await forget(mapping.id);
  });

  it('stores what Dropbox listed: ids, path, size, rev, content hash and server time', async () => {
    const mapping = newMapping();
    const file = listedFile(7, { contentHash: undefined });
    await files.upsertListedFiles(mapping, [file], 1, T0);
    const [record] = await files.listAllLive(mapping.id);
    assert.deepEqual(record, {
      _id: `${mapping.id}:${file.id}`,
      mappingId: mapping.id,
      projectId: 'project-1',
      dropboxId: file.id,
      name: file.name,
      path: file.pathDisplay,
      pathLower: file.pathLower,
      size: file.size,
      rev: file.rev,
      firstRev: file.rev,
      contentHash: null,
      serverModified: new Date(file.serverModified),
      syncedAt: T0,
      updatedAt: T0,
      listingGeneration: 1,
      deletedAt: null,
    });
  });

  it('a newer rev replaces the stored one; an older rev never overwrites a newer one', async () => {
    const mapping = newMapping();
    const v1 = listedFile(1, { rev: 'a1', serverModified: '2024-05-01T10:00:00Z', size: 10 });
    const v2 = listedFile(1, { rev: 'a2', serverModified: '2024-05-02T10:00:00Z', size: 20 });
    await files.upsertListedFiles(mapping, [v1], 1, T0);
    assert.deepEqual(await files.upsertListedFiles(mapping, [v2], 1, later(1)), {
      added: 0,
      updated: 1,
      unchanged: 0,
    });
    assert.deepEqual(await files.upsertListedFiles(mapping, [v1], 1, later(2)), {
      added: 0,
      updated: 0,
      unchanged: 1,
    });
    const [record] = await files.listAllLive(mapping.id);
    assert.equal(record?.rev, 'a2');
    assert.equal(record?.size, 20);
    assert.equal(record?.updatedAt.getTime(), later(1).getTime());
    assert.equal(record?.syncedAt.getTime(), T0.getTime());
  });

  it('writes no content records: the copy gives each record updated since a time a pending one for its rev, once', async () => {
    const mapping = newMapping();
    const v1 = listedFile(1, { rev: 'b1', serverModified: '2024-05-01T10:00:00Z' });
    const v2 = listedFile(1, { rev: 'b2', serverModified: '2024-05-02T10:00:00Z' });
    const { contents, pendingContents } = collections(t.db);
    const contentsRepo = createFileContentsRepository(t.db);
    await files.upsertListedFiles(mapping, [v1, listedFile(2)], 1, T0);
    assert.equal(await pendingContents.countDocuments({ mappingId: mapping.id }), 0, 'the listing wrote file records alone');
    assert.equal(await contentsRepo.recordPendingRevs(mapping.id, T0), 2);
    assert.equal(await contentsRepo.recordPendingRevs(mapping.id, T0), 0, 'a rev gets one content record');
    await files.upsertListedFiles(mapping, [v1], 1, later(1));
    await files.upsertListedFiles(mapping, [v2], 1, later(2));
    assert.equal(
      await contentsRepo.recordPendingRevs(mapping.id, later(2)),
      1,
      'the new rev; the other file, recorded before the time given, is not read',
    );
    const found = await pendingContents.find({ mappingId: mapping.id }).sort({ _id: 1 }).toArray();
    const recordId = `${mapping.id}:${v1.id}`;
    assert.deepEqual(
      found.filter((c) => c.fileRecordId === recordId).map((c) => [c._id, c.rev, c.state, c.serverModified.toISOString()]),
      [
        [`${recordId}@b1`, 'b1', 'pending', '2024-05-01T10:00:00.000Z'],
        [`${recordId}@b2`, 'b2', 'pending', '2024-05-02T10:00:00.000Z'],
      ],
    );
    assert.equal(found.length, 3);
    // A rev that left the copy's work (here, stored) is not made pending again by a later update of its file.
    const current = found.find((c) => c.rev === 'b2')!;
    await contents.insertOne({ ...current, state: 'stored' });
    await pendingContents.deleteOne({ _id: current._id });
    await files.upsertListedFiles(mapping, [v2], 1, later(3));
    await collections(t.db).files.updateMany({ mappingId: mapping.id }, { $set: { updatedAt: later(4) } });
    assert.equal(await contentsRepo.recordPendingRevs(mapping.id, later(4)), 0, 'every current rev has a record');
    assert.equal(await pendingContents.countDocuments({ mappingId: mapping.id }), 2);
    await forget(mapping.id);
  });

  it('a late page mixing an older rev, a newer rev and a new file records only what is newer', async () => {
    const mapping = newMapping();
    const a2 = listedFile(1, { rev: 'a2', serverModified: '2024-05-02T00:00:00Z' });
    const b1 = listedFile(2, { rev: 'b1', serverModified: '2024-05-01T00:00:00Z' });
    await files.upsertListedFiles(mapping, [a2, b1], 1, T0);
    const a1 = listedFile(1, { rev: 'a1', serverModified: '2024-05-01T00:00:00Z' });
    const b2 = listedFile(2, { rev: 'b2', serverModified: '2024-05-03T00:00:00Z' });
    const c1 = listedFile(3, { rev: 'c1' });
    assert.deepEqual(await files.upsertListedFiles(mapping, [a1, b2, c1], 1, later(1)), {
      added: 1,
      updated: 1,
      unchanged: 1,
    });
    const revs = (await files.listAllLive(mapping.id)).map((f) => f.rev);
    assert.deepEqual(revs, ['a2', 'b2', 'c1']);
  });

  it('a rename keeps one record, at the new path, whether or not the old path was reported deleted', async () => {
    const mapping = newMapping();
    const original = listedFile(1);
    await files.upsertListedFiles(mapping, [original], 1, T0);

    const renamed = {
      ...original,
      name: 'Renamed.pdf',
      pathDisplay: '/Plans/Renamed.pdf',
      pathLower: '/plans/renamed.pdf',
    };
    assert.equal(await files.markDeletedByPaths(mapping.id, [original.pathLower], later(1)), 1);
    assert.deepEqual(await files.upsertListedFiles(mapping, [renamed], 1, later(1)), {
      added: 0,
      updated: 1,
      unchanged: 0,
    });

    const moved = {
      ...renamed,
      pathDisplay: '/Plans/Moved.pdf',
      pathLower: '/plans/moved.pdf',
      name: 'Moved.pdf',
    };
    assert.deepEqual(await files.upsertListedFiles(mapping, [moved], 1, later(2)), {
      added: 0,
      updated: 1,
      unchanged: 0,
    });

    const all = await collections(t.db).files.find({ mappingId: mapping.id }).toArray();
    assert.equal(all.length, 1);
    assert.equal(all[0]?.path, '/Plans/Moved.pdf');
    assert.equal(all[0]?.deletedAt, null);
  });

  it('markDeletedByPaths marks only live records of that mapping and counts them', async () => {
    const mapping = newMapping();
    const other = newMapping();
    await files.upsertListedFiles(mapping, listedFiles(5), 1, T0);
    await files.upsertListedFiles(other, listedFiles(5), 1, T0);
    const paths = [listedFile(0).pathLower, listedFile(1).pathLower, '/plans/never-seen.pdf'];
    assert.equal(await files.markDeletedByPaths(mapping.id, paths, later(1)), 2);
    assert.equal(await files.markDeletedByPaths(mapping.id, paths, later(2)), 0, 'already deleted');
    assert.equal(await files.markDeletedByPaths(mapping.id, [], later(2)), 0);
    assert.equal(await files.countLive(mapping.id), 3);
    assert.equal(await files.countLive(other.id), 5, 'another mapping with the same paths is untouched');
    const gone = await collections(t.db).files.findOne({ _id: `${mapping.id}:${listedFile(0).id}` });
    assert.equal(gone?.deletedAt?.getTime(), later(1).getTime());
  });

  it('markReplacedAtPaths marks deleted another file recorded at a listed path, not files the page moves', async () => {
    const mapping = newMapping();
    await files.upsertListedFiles(mapping, listedFiles(3), 1, T0);
    // plan-0 deleted and uploaded again (a new id at its path); plan-1 and plan-2 swapped names.
    const page = [
      listedFile(100, { pathLower: listedFile(0).pathLower, pathDisplay: listedFile(0).pathDisplay }),
      listedFile(1, { pathLower: listedFile(2).pathLower, pathDisplay: listedFile(2).pathDisplay }),
      listedFile(2, { pathLower: listedFile(1).pathLower, pathDisplay: listedFile(1).pathDisplay }),
    ];
    assert.equal(await files.markReplacedAtPaths(mapping.id, page, later(1)), 1);
    assert.equal(await files.markReplacedAtPaths(mapping.id, page, later(2)), 0, 'already marked');
    await files.upsertListedFiles(mapping, page, 1, later(1));
    const live = await files.listAllLive(mapping.id);
    assert.deepEqual(
      live.map((r) => [r.dropboxId, r.pathLower]).sort(),
      page.map((f) => [f.id, f.pathLower]).sort(),
      'one live record per path, each the file listed there',
    );
    await forget(mapping.id);
  });

  it('a deleted file that comes back is live again', async () => {
    const mapping = newMapping();
    const file = listedFile(1);
    await files.upsertListedFiles(mapping, [file], 1, T0);
    await files.markDeletedByPaths(mapping.id, [file.pathLower], later(1));
    assert.deepEqual(await files.upsertListedFiles(mapping, [file], 1, later(2)), {
      added: 0,
      updated: 1,
      unchanged: 0,
    });
    assert.equal(await files.countLive(mapping.id), 1);
  });

  it('sweepUnseen after a full relisting marks deleted exactly the files that listing did not see', async () => {
    const mapping = newMapping();
    await files.upsertListedFiles(mapping, listedFiles(120), 1, T0);
    // Generation 2 sees files 20..119 unchanged, 120..124 new; 0..19 were deleted while the cursor was lost.
    const relisting = listedFiles(105, 20);
    assert.deepEqual(await files.upsertListedFiles(mapping, relisting.slice(0, 60), 2, later(1)), {
      added: 0,
      updated: 0,
      unchanged: 60,
    });
    assert.deepEqual(await files.upsertListedFiles(mapping, relisting.slice(60), 2, later(1)), {
      added: 5,
      updated: 0,
      unchanged: 40,
    });
    assert.equal(await files.sweepUnseen(mapping.id, 2, later(2)), 20);
    assert.equal(await files.sweepUnseen(mapping.id, 2, later(3)), 0, 'a repeated sweep changes nothing');
    const live = await files.listAllLive(mapping.id);
    assert.equal(live.length, 105);
    assert.deepEqual(new Set(live.map((f) => f.dropboxId)), new Set(relisting.map((f) => f.id)));
  });

  it('a sweep spares a file listed with an older rev than the stored one: it still exists', async () => {
    const mapping = newMapping();
    await files.upsertListedFiles(
      mapping,
      [listedFile(1, { rev: 'new', serverModified: '2024-05-09T00:00:00Z' })],
      1,
      T0,
    );
    await files.upsertListedFiles(
      mapping,
      [listedFile(1, { rev: 'old', serverModified: '2024-05-01T00:00:00Z' })],
      2,
      later(1),
    );
    assert.equal(await files.sweepUnseen(mapping.id, 2, later(2)), 0);
    assert.equal((await files.listAllLive(mapping.id))[0]?.rev, 'new');
  });

  it('a workflow restarted at generation 1 still sweeps records a generation-3 listing stamped', async () => {
    const mapping = newMapping();
    await files.upsertListedFiles(mapping, listedFiles(10), 3, T0);
    await files.upsertListedFiles(mapping, listedFiles(6), 1, later(1));
    assert.equal(await files.sweepUnseen(mapping.id, 1, later(2)), 4);
    assert.equal(await files.countLive(mapping.id), 6);
  });

  it('pages through 2,500 live files by _id with limit and after, each file once, deleted ones left out', async () => {
    const mapping = newMapping();
    await files.upsertListedFiles(mapping, listedFiles(2500), 1, T0);
    await files.markDeletedByPaths(
      mapping.id,
      [listedFile(3).pathLower, listedFile(2499).pathLower],
      later(1),
    );

    const seen: string[] = [];
    const sizes: number[] = [];
    let after: string | null = null;
    do {
      const page: Awaited<ReturnType<FilesRepository['list']>> = await files.list(mapping.id, {
        limit: 1000,
        after,
      });
      sizes.push(page.files.length);
      seen.push(...page.files.map((f) => f._id));
      after = page.next;
    } while (after);
    assert.deepEqual(sizes, [1000, 1000, 498]);
    assert.equal(new Set(seen).size, 2498);
    assert.deepEqual(seen, [...seen].sort());
    assert.ok(!seen.includes(`${mapping.id}:${listedFile(3).id}`));
    await forget(mapping.id);
  });

  it('the last full page says there is no next page', async () => {
    const mapping = newMapping();
    await files.upsertListedFiles(mapping, listedFiles(4), 1, T0);
    const first = await files.list(mapping.id, { limit: 2 });
    assert.equal(first.next, first.files[1]?._id);
    const second = await files.list(mapping.id, { limit: 2, after: first.next });
    assert.equal(second.files.length, 2);
    assert.equal(second.next, null);
    assert.deepEqual(await files.list(newId(), { limit: 2 }), { files: [], next: null });
    await assert.rejects(files.list(mapping.id, { limit: 0 }), RangeError);
  });

  it('two concurrent persists of the same new files leave one record per file and add each once', async () => {
    const mapping = newMapping();
    const page = listedFiles(200);
    const [a, b] = await Promise.all([
      files.upsertListedFiles(mapping, page, 1, T0),
      files.upsertListedFiles(mapping, page, 1, T0),
    ]);
    assert.equal(a.added + b.added, 200);
    assert.equal(a.added + a.unchanged + a.updated, 200);
    assert.equal(b.added + b.unchanged + b.updated, 200);
    assert.equal(await collections(t.db).files.countDocuments({ mappingId: mapping.id }), 200);
  });

  it('updates more changed files than one write command may carry on FerretDB', async () => {
    const mapping = newMapping();
    await files.upsertListedFiles(mapping, listedFiles(130), 1, T0);
    const changed = listedFiles(130).map((f) => ({
      ...f,
      rev: `${f.rev}b`,
      serverModified: '2024-05-05T00:00:00Z',
    }));
    assert.deepEqual(await files.upsertListedFiles(mapping, changed, 1, later(1)), {
      added: 0,
      updated: 130,
      unchanged: 0,
    });
    assert.ok((await files.listAllLive(mapping.id)).every((f) => f.rev.endsWith('b')));
  });
});
