/**
 * The content records over FerretDB: a rev's outcome is inserted once, the first insert winning,
 * so two attempts at one rev store one upload and the other is deleted at its batch's end; the
 * counts take a rev out of pending with its outcome, though its pending record goes at the
 * batch's end; a crash between an outcome and its naming as ended is mended by the next attempt;
 * a too-large rev can be reopened.
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, it } from 'node:test';
import { collections } from '../../src/db/collections';
import { createFileContentsRepository, type FileContentsRepository, type PendingContent } from '../../src/db/fileContentsRepository';
import { createFilesRepository } from '../../src/db/filesRepository';
import { newId } from '../../src/db/ids';
import { listedFile, listedFiles } from './listedFiles';
import { openTestDb, type TestDb } from './testDb';

const T0 = new Date('2024-06-01T00:00:00Z');

describe('file contents repository', () => {
  let t: TestDb;
  let contents: FileContentsRepository;

  before(async () => {
    t = await openTestDb('contents');
    contents = createFileContentsRepository(t.db);
  });
  after(async () => {
    await t?.close();
  });

  /** A mapping with one recorded file, its rev pending. */
  async function pendingRev(): Promise<{ mappingId: string; pending: PendingContent }> {
    const mapping = { id: newId(), projectId: 'project-1' };
    await createFilesRepository(t.db).upsertListedFiles(mapping, [listedFile(1)], 1, T0);
    assert.equal(await contents.recordPendingRevs(mapping.id, T0), 1);
    const [pending] = await contents.listPending(mapping.id, 10);
    assert.ok(pending?.file);
    return { mappingId: mapping.id, pending };
  }

  async function upload(pending: PendingContent, bytes: string): Promise<string> {
    const id = (await contents.nameUploads([pending.content])).get(pending.content._id);
    assert.ok(id);
    await pipeline(Readable.from([Buffer.from(bytes)]), contents.openUpload(id, pending.content, pending.file!));
    return id;
  }

  it('of two attempts at one rev, stores the first verified upload marked; the other goes at its batch\'s end', async () => {
    const { mappingId, pending } = await pendingRev();
    const late = await upload(pending, 'late');
    const first = await upload(pending, 'first');
    assert.deepEqual((await contents.uploadsOf(pending.content._id)).sort(), [first, late].sort());

    assert.equal(await contents.markStored(pending, first, 'hash', 5), true);
    assert.equal(await contents.markStored(pending, late, 'hash', 4), false, 'the second outcome is refused');
    const pendingRecords = () => collections(t.db).pendingContents.countDocuments({ mappingId });
    assert.equal(await pendingRecords(), 1, 'the pending record waits for the batch\'s end');
    assert.deepEqual(await contents.counts(mappingId), { pending: 0, stored: 1, failed: 0 }, 'but counts no more');
    await contents.endBatch(mappingId, [first]);
    assert.equal(await pendingRecords(), 0);

    const { current, stored } = (await contents.contentOf([pending.file!])).get(pending.file!._id)!;
    assert.equal(current?.state, 'stored');
    assert.equal(stored?.storedFileId, first);
    const { files, chunkFileIds } = await contents.uploads();
    assert.ok(files.includes(first) && chunkFileIds.includes(first), 'the stored upload stays');
    assert.ok(!files.includes(late) && !chunkFileIds.includes(late), 'the other upload is gone');
    assert.deepEqual(await contents.uploadsOf(pending.content._id), [], 'no upload is named for the rev');
    assert.deepEqual(await contents.counts(mappingId), { pending: 0, stored: 1, failed: 0 });
  });

  it('mends a crash between a rev\'s outcome and its naming as ended at the next attempt', async () => {
    const { mappingId, pending } = await pendingRev();
    const stored = await upload(pending, 'stored');
    await collections(t.db).contents.insertOne({ ...pending.content, state: 'stored', storedFileId: stored });
    const shown = (await contents.contentOf([pending.file!])).get(pending.file!._id)!;
    assert.equal(shown.current?.state, 'stored', 'the outcome is what the file shows');
    assert.deepEqual(await contents.counts(mappingId), { pending: 1, stored: 1, failed: 0 }, 'counted twice until then');
    const again = await upload(pending, 'again');
    assert.equal(await contents.markStored(pending, again, 'hash', 5), false, 'the rev keeps its outcome');
    assert.deepEqual(await contents.counts(mappingId), { pending: 0, stored: 1, failed: 0 });
    await contents.endBatch(mappingId, []);
    assert.deepEqual(await contents.uploadsOf(pending.content._id), [], 'both names go');
    const { files, chunkFileIds } = await contents.uploads();
    assert.ok(files.includes(stored) && chunkFileIds.includes(stored), 'the stored bytes stay');
    assert.ok(!files.includes(again) && !chunkFileIds.includes(again), 'the second download is gone');
  });

  it('makes pending again no rev that has its outcome, of a few files or of many', async () => {
    for (const count of [3, 40]) {
      const mapping = { id: newId(), projectId: 'project-1' };
      const files = createFilesRepository(t.db);
      await files.upsertListedFiles(mapping, listedFiles(count), 1, T0);
      assert.equal(await contents.recordPendingRevs(mapping.id, T0), count);
      const batch = await contents.listPending(mapping.id, count);
      for (const pending of batch.slice(0, 2)) await contents.markFailed(pending, 'not_found', 'gone');
      await contents.endBatch(mapping.id, []);
      // Every file updated again (a relisting): the two with an outcome stay out of pending.
      await collections(t.db).pendingContents.deleteMany({ mappingId: mapping.id });
      await collections(t.db).files.updateMany({ mappingId: mapping.id }, { $set: { updatedAt: new Date(T0.getTime() + 60_000) } });
      assert.equal(await contents.recordPendingRevs(mapping.id, T0), count - 2, `${count} files`);
      assert.deepEqual(await contents.counts(mapping.id), { pending: count - 2, stored: 0, failed: 2 });
    }
  });

  it('reopens a rev refused as too large once, pending again with no outcome', async () => {
    const { mappingId, pending } = await pendingRev();
    await contents.markFailed(pending, 'too_large', 'Larger than MAX_FILE_BYTES');
    assert.deepEqual(await contents.counts(mappingId), { pending: 0, stored: 0, failed: 1 });
    assert.deepEqual((await contents.tooLarge(mappingId)).map((c) => c._id), [pending.content._id]);
    assert.equal(await contents.reopenTooLarge([pending.content._id]), 1);
    assert.equal(await contents.reopenTooLarge([pending.content._id]), 0, 'once');
    // A batch that ended the old pending record and reads its name now (its copy was under way)
    // must not take the reopened one with it.
    await collections(t.db).endedContents.insertOne({ _id: pending.content._id, mappingId });
    await contents.endBatch(mappingId, []);
    assert.deepEqual(await contents.counts(mappingId), { pending: 1, stored: 0, failed: 0 });
    const [again] = await contents.listPending(mappingId, 10);
    assert.equal(again?.content.state, 'pending');
    assert.equal(again?.content.error, undefined, 'the refusal is gone with its outcome');
  });
});
