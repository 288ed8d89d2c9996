/**
 * The worker process SIGKILLed while it copies a 200 MiB file into GridFS: no shutdown, the
 * upload cut off mid-file. Once a worker runs again the file ends stored exactly once, verified,
 * and once the batch that stored it ended, GridFS holds no chunk of the dead upload.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, it } from 'node:test';
import { CONTENT_BUCKET } from '../../src/db/fileContentsRepository';
import { ContentHasher } from '../../src/dropbox/contentHasher';
import { type FaultHarness, secondsSince, startFaultHarness, waitUntil } from './support/faultHarness';

const SIZE = 200 * 1024 * 1024;
const CHUNK = 1024 * 1024;

describe('worker SIGKILLed while copying file contents', () => {
  let h: FaultHarness;
  before(async () => {
    h = await startFaultHarness({ pollIntervalMs: 5 * 60_000 });
  });
  after(() => h?.close());

  for (const round of [1, 2]) {
    it(`stores a 200 MiB file exactly once, with no orphan chunks, after a SIGKILL mid-download (round ${round})`, async (t) => {
      const started = Date.now();
      await h.worker.start();
      let fileId = '';
      const folder = await h.mapFolder(`/Projects/Scans ${round}`, (accountId) => {
        fileId = String(h.emulator.addFile(accountId, `/Projects/Scans ${round}/pointcloud.e57`, { seed: round, size: SIZE })['id']);
      }, { contents: true });
      const chunks = h.db.collection<{ files_id: string; n: number }>(`${CONTENT_BUCKET}.chunks`);
      const gridFiles = h.db.collection<{ _id: string; metadata?: { fileRecordId?: string } }>(`${CONTENT_BUCKET}.files`);
      const recordId = `${folder.mapping._id}:${fileId}`;
      const contentOf = async () => {
        const file = await h.repos.contents.getFile(folder.mapping._id, fileId);
        return file ? { file, ...(await h.repos.contents.contentOf([file])).get(file._id)! } : null;
      };
      const uploadOf = async () => {
        const current = (await contentOf())?.current;
        return current ? ((await h.repos.contents.uploadsOf(current._id))[0] ?? null) : null;
      };

      // Kill within 1.5 s of the upload's start: 200 MiB took 5 s or more here (up to 40 chunks a
      // second), and a kill up to 5 s in once came after the file was stored. Counting chunks as
      // they arrive would scan them all on FerretDB each time and lag behind the upload.
      let killedUpload = '';
      await waitUntil(
        async () => {
          killedUpload = (await uploadOf()) ?? '';
          return killedUpload !== '';
        },
        240_000,
        'the upload to start',
        100,
      );
      await new Promise((done) => setTimeout(done, 300 + Math.floor(Math.random() * 1_200)));
      await h.worker.kill();
      const chunksAtKill = await chunks.countDocuments({ files_id: killedUpload });
      t.diagnostic(`killed at ${chunksAtKill} of ${SIZE / CHUNK} chunks, ${secondsSince(started)} s`);
      const atKill = await contentOf();
      assert.notEqual(atKill?.current?.state, 'stored', 'the kill came before the file was stored');
      assert.ok(chunksAtKill < SIZE / CHUNK, 'the kill came mid-file');

      await h.worker.start();
      await waitUntil(
        async () => (await contentOf())?.current?.state === 'stored',
        300_000,
        'the file to be stored after the restart',
        500,
      );
      const stored = await contentOf();
      // The dead upload goes at the end of the batch that stored the file (not before: until the
      // rev has its outcome, an upload could be one under way on a worker cut off from Temporal).
      await waitUntil(
        async () => (await h.repos.contents.uploadsOf(stored!.current!._id)).length === 0,
        60_000,
        'the dead upload to be deleted',
        250,
      );
      const record = { ...stored?.stored, contentHash: stored?.file.contentHash };
      assert.ok(record.storedFileId);
      assert.notEqual(record.storedFileId, killedUpload, 'the dead upload was not taken as the file');
      const filesOfRecord = await gridFiles.find({ 'metadata.fileRecordId': recordId }).toArray();
      assert.deepEqual(filesOfRecord.map((f) => f._id), [record.storedFileId], 'stored exactly once');
      assert.equal(await chunks.countDocuments({ files_id: killedUpload }), 0, 'no chunk of the dead upload is left');
      assert.equal(await chunks.countDocuments({ files_id: record.storedFileId }), SIZE / CHUNK);
      const allFiles = new Set((await gridFiles.find({}, { projection: { _id: 1 } }).toArray()).map((f) => f._id));
      const orphans = (await chunks.distinct('files_id')).filter((id) => !allFiles.has(id as string));
      assert.deepEqual(orphans, [], 'no chunks without their file');

      const hasher = new ContentHasher();
      await pipeline(h.repos.contents.openDownload(record.storedFileId), hasher, new Writable({ write: (_c, _e, done) => done() }));
      assert.equal(hasher.bytes, SIZE);
      assert.equal(hasher.digest(), record.contentHash, "the stored bytes are Dropbox's");
      t.diagnostic(`stored after the restart; ${secondsSince(started)} s in all`);
      await h.worker.stop();
    });
  }
});
