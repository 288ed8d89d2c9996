/**
 * The content copy over FerretDB (GridFS) and the Dropbox emulator, called as the worker calls
 * it: bytes stored equal bytes uploaded, verified against Dropbox's content hash, a mismatch never
 * stored, a new rev replacing the old bytes once verified, too-large files, a token without the
 * content scope, and uploads a dead worker left behind.
 */
import { shownContent } from '../../src/domain/contentScope';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createActivities, type Activities } from '../../src/activities';
import { MAX_HASH_MISMATCHES } from '../../src/activities/copyFileContents';
import { collections } from '../../src/db/collections';
import { CONTENT_BUCKET, REPLACED_BYTES_KEPT_MS } from '../../src/db/fileContentsRepository';
import type { Mapping } from '../../src/domain/types';
import { contentCopies, filesRejected } from '../../src/metrics';
import { failureOf } from '../support/failures';
import { FOLDER, openSyncFixture, type SyncFixture } from '../support/syncFixture';

describe('copyFileContents over FerretDB and the Dropbox emulator', () => {
  let fx: SyncFixture;
  let activities: Activities;
  let folderNo = 0;

  before(async () => {
    fx = await openSyncFixture('contents');
    activities = createActivities({ ...fx.deps, maxFileBytes: 10 * 1024 * 1024 });
  });
  after(() => fx.close());

  /** A fresh folder and mapping, with files added by `add`, listed and recorded as a cycle does. */
  async function mappedFolder(add: (folder: string) => void): Promise<Mapping> {
    const folder = `${FOLDER}/case-${++folderNo}`;
    fx.emulator.addFolder(fx.accountId, folder);
    add(folder);
    const mapping = await fx.newMapping(folder);
    await record(mapping);
    return mapping;
  }

  let generation = 0;
  // Per mapping, as the workflow carries it: the listing time of the earliest page recorded since the last copy.
  const recordedSince = new Map<string, number>();
  async function record(mapping: Mapping): Promise<void> {
    const summary = await activities.listFolder({ mappingId: mapping._id, keepInSlot: 0 });
    if (summary.page)
      recordedSince.set(mapping._id, Math.min(recordedSince.get(mapping._id) ?? Infinity, summary.page.listedAt));
    await activities.persistNewFiles({
      mappingId: mapping._id,
      projectId: mapping.projectId,
      ...(summary.page ? { page: summary.page } : {}),
      endsListing: true,
      listingGeneration: ++generation,
      sweep: true,
    });
  }

  /** The copy the workflow asks for after a cycle recorded files. */
  function copy(mapping: Pick<Mapping, '_id'>, by: Activities = activities) {
    const since = recordedSince.get(mapping._id);
    recordedSince.delete(mapping._id);
    return by.copyFileContents({ mappingId: mapping._id, ...(since === undefined ? {} : { recordedSince: since }) });
  }

  async function emulatorBytes(path: string): Promise<Buffer> {
    const res = await fetch(`${fx.emulator.url}/2/files/download`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${fx.token}`, 'Dropbox-API-Arg': JSON.stringify({ path }) },
    });
    assert.equal(res.status, 200);
    return Buffer.from(await res.arrayBuffer());
  }

  /** The file's record, the content record of its rev, and its stored rev's. */
  async function contentOf(mapping: Mapping, dropboxId: string) {
    const file = await fx.repos.contents.getFile(mapping._id, dropboxId);
    assert.ok(file, `a record of ${dropboxId}`);
    const { current, stored } = (await fx.repos.contents.contentOf([file])).get(file._id)!;
    return { file, current, stored };
  }

  async function storedBytes(mapping: Mapping, dropboxId: string): Promise<Buffer> {
    const { stored } = await contentOf(mapping, dropboxId);
    assert.ok(stored?.storedFileId, 'the file has a stored content');
    const chunks: Buffer[] = [];
    for await (const chunk of fx.repos.contents.openDownload(stored.storedFileId))
      chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  /** What a worker killed mid-file leaves: an upload named for its first pending rev, a chunk, no files document. */
  async function halfWrittenUpload(mapping: Mapping) {
    await fx.repos.contents.recordPendingRevs(mapping._id, new Date(0)); // what the copy did first
    const pending = (await fx.repos.contents.listPending(mapping._id, 10))[0];
    assert.ok(pending);
    const uploadId = (await fx.repos.contents.nameUploads([pending.content])).get(pending.content._id);
    assert.ok(uploadId);
    await fx.testDb.db
      .collection(`${CONTENT_BUCKET}.chunks`)
      .insertOne({ files_id: uploadId, n: 0, data: Buffer.alloc(1024) } as never);
    return { pending, uploadId };
  }

  async function gridFsIds(): Promise<{ files: Set<string>; chunks: Set<string> }> {
    const { files, chunkFileIds } = await fx.repos.contents.uploads();
    return { files: new Set(files), chunks: new Set(chunkFileIds) };
  }

  it('stores an empty file, a 1-byte file, a 9 MiB file (three hash blocks) and a non-ASCII name, byte for byte', async () => {
    const added: Record<string, string> = {};
    const mapping = await mappedFolder((folder) => {
      added['empty.txt'] = String(
        fx.emulator.addFile(fx.accountId, `${folder}/empty.txt`, { content: '' })['id'],
      );
      added['one.bin'] = String(
        fx.emulator.addFile(fx.accountId, `${folder}/one.bin`, { content: 'x' })['id'],
      );
      added['nine.bin'] = String(
        fx.emulator.addFile(fx.accountId, `${folder}/nine.bin`, { seed: 9, size: 9 * 1024 * 1024 })['id'],
      );
      added['Kaivanto ä ö.dwg'] = String(
        fx.emulator.addFile(fx.accountId, `${folder}/Kaivanto ä ö.dwg`, { seed: 5, size: 300_001 })['id'],
      );
    });
    const result = await copy(mapping);
    assert.deepEqual(result, { stored: 4, failed: 0, pending: 0, missingScope: false });
    for (const [name, id] of Object.entries(added)) {
      const { file, current, stored: storedContent } = await contentOf(mapping, id);
      assert.equal(current?.state, 'stored', name);
      assert.equal(storedContent?.rev, file.rev);
      assert.equal(storedContent?.storedHash, file.contentHash);
      const expected = await emulatorBytes(id);
      const stored = await storedBytes(mapping, id);
      assert.equal(stored.length, expected.length, name);
      assert.ok(stored.equals(expected), `${name}: the stored bytes are Dropbox's`);
    }
    assert.deepEqual(await fx.repos.contents.counts(mapping._id), { pending: 0, stored: 4, failed: 0 });
    const again = await copy(mapping);
    assert.deepEqual(
      again,
      { stored: 0, failed: 0, pending: 0, missingScope: false },
      'nothing is copied twice',
    );
  });

  it('never stores a download that mismatches its hash: retried, then failed with the reason', async () => {
    let id = '';
    const mapping = await mappedFolder((folder) => {
      id = String(
        fx.emulator.addFile(fx.accountId, `${folder}/plan.pdf`, { content: 'the real plan' })['id'],
      );
    });
    const before = await gridFsIds();
    const copies = async () =>
      Object.fromEntries((await contentCopies.get()).values.map((v) => [String(v.labels.outcome), v.value]));
    const copiesBefore = await copies();
    fx.emulator.corruptNextDownloads(1);
    const failure = await failureOf(copy(mapping));
    assert.equal(failure.type, 'ContentsIncomplete', 'a retryable failure: Temporal tries again');
    const { current, stored } = await contentOf(mapping, id);
    assert.equal(current?.state, 'pending');
    assert.equal(stored, null);
    assert.deepEqual(await gridFsIds(), before, 'the wrong bytes left nothing in GridFS');
    await copy(mapping);
    assert.equal((await storedBytes(mapping, id)).toString(), 'the real plan');

    let badId = '';
    const bad = await mappedFolder((folder) => {
      badId = String(
        fx.emulator.addFile(fx.accountId, `${folder}/bad.pdf`, { content: 'always wrong' })['id'],
      );
    });
    fx.emulator.corruptNextDownloads(MAX_HASH_MISMATCHES);
    for (let attempt = 1; attempt < MAX_HASH_MISMATCHES; attempt++) {
      await assert.rejects(copy(bad));
    }
    const last = await copy(bad);
    assert.equal(last.failed, 1);
    const failed = await contentOf(bad, badId);
    assert.equal(failed.current?.state, 'failed');
    assert.equal(failed.current?.error?.reason, 'hash_mismatch');
    assert.equal(failed.stored, null);
    assert.deepEqual(await fx.repos.contents.counts(bad._id), { pending: 0, stored: 0, failed: 1 });
    // Operators can alert on copies that fail: each attempt that failed, and the one that gave up.
    const copiesAfter = await copies();
    const grew = (outcome: string) => (copiesAfter[outcome] ?? 0) - (copiesBefore[outcome] ?? 0);
    assert.deepEqual([grew('stored'), grew('retried'), grew('failed')], [1, MAX_HASH_MISMATCHES, 1]);

    // A new rev that arrives intact: the failed one is behind the file now, and counts no more.
    fx.emulator.modifyFile(fx.accountId, `${bad.dropboxPath}/bad.pdf`, { content: 'right at last' });
    await record(bad);
    await copy(bad);
    assert.equal((await storedBytes(bad, badId)).toString(), 'right at last');
    assert.deepEqual(await fx.repos.contents.counts(bad._id), { pending: 0, stored: 1, failed: 0 });
    assert.equal((await collections(fx.testDb.db).contents.findOne({ _id: failed.current!._id }))?.state, 'superseded');
  });

  it('replaces the stored content with a new rev only once the new bytes are verified', async () => {
    let id = '';
    let path = '';
    const mapping = await mappedFolder((folder) => {
      path = `${folder}/notes.txt`;
      id = String(fx.emulator.addFile(fx.accountId, path, { content: 'version one' })['id']);
    });
    const listed = await contentOf(mapping, id);
    assert.equal(listed.file.firstRev, listed.file.rev);
    assert.deepEqual(
      await fx.repos.contents.contentOfFile(listed.file),
      { current: listed.current, stored: null },
      'at its first rev, nothing stored yet',
    );
    await copy(mapping);
    const first = await contentOf(mapping, id);
    fx.emulator.modifyFile(fx.accountId, path, { content: 'version two, longer' });
    await record(mapping);
    const changed = await contentOf(mapping, id);
    assert.notEqual(changed.file.rev, first.file.rev);
    assert.equal(changed.file.firstRev, first.file.rev, 'the first rev is kept');
    assert.equal(shownContent(changed.current, false).contentState, 'pending', 'shown pending before its copy');
    assert.equal(changed.stored?.rev, first.file.rev, 'the old bytes stay until the new ones are verified');
    assert.equal(
      (await fx.repos.contents.contentOfFile(changed.file)).stored?.rev,
      first.file.rev,
      "the file's route serves the old rev meanwhile",
    );
    assert.equal((await storedBytes(mapping, id)).toString(), 'version one');
    fx.emulator.corruptNextDownloads(1);
    await assert.rejects(copy(mapping));
    assert.equal(
      (await storedBytes(mapping, id)).toString(),
      'version one',
      'a bad download replaced nothing',
    );
    await copy(mapping);
    const stored = await contentOf(mapping, id);
    assert.equal(stored.stored?.rev, changed.file.rev);
    assert.equal(stored.current?.state, 'stored');
    assert.equal((await storedBytes(mapping, id)).toString(), 'version two, longer');
    // The old rev's bytes stay a while, for downloads under way; a copy an hour later deletes them.
    assert.ok((await gridFsIds()).files.has(first.stored?.storedFileId ?? ''), "the old rev's bytes stay for now");
    const later = createActivities({
      ...fx.deps,
      maxFileBytes: 10 * 1024 * 1024,
      now: () => new Date(Date.now() + REPLACED_BYTES_KEPT_MS + 60_000),
    });
    await copy(mapping, later);
    const { files, chunks } = await gridFsIds();
    assert.ok(!files.has(first.stored?.storedFileId ?? ''), "the old rev's GridFS file is gone an hour on");
    assert.ok(!chunks.has(first.stored?.storedFileId ?? ''), 'and its chunks');
    assert.equal((await storedBytes(mapping, id)).toString(), 'version two, longer', 'the new rev stays');
  });

  it('keeps the new bytes stored when the write that stores them fails after it landed (superseding the old rev)', async () => {
    let id = '';
    let path = '';
    const mapping = await mappedFolder((folder) => {
      path = `${folder}/levels.txt`;
      id = String(fx.emulator.addFile(fx.accountId, path, { content: 'level one' })['id']);
    });
    await copy(mapping);
    fx.emulator.modifyFile(fx.accountId, path, { content: 'level two' });
    await record(mapping);
    // The rev is marked stored (and the old one superseded), then the database's answer is lost.
    const real = fx.repos.contents;
    let lost = false;
    const flaky = createActivities({
      ...fx.deps,
      maxFileBytes: 10 * 1024 * 1024,
      repos: {
        ...fx.repos,
        contents: {
          ...real,
          markStored: async (...args: Parameters<typeof real.markStored>) => {
            const marked = await real.markStored(...args);
            if (!lost) {
              lost = true;
              throw new Error('the connection dropped after the write');
            }
            return marked;
          },
        },
      },
    });
    await copy(mapping, flaky).catch(() => undefined);
    assert.ok(lost);
    // Before any copy could mend it: stored, its bytes there, the old rev superseded.
    const failed = await contentOf(mapping, id);
    assert.equal(failed.current?.state, 'stored');
    assert.ok((await gridFsIds()).files.has(failed.current?.storedFileId ?? ''), 'the stored bytes are there at once');
    const revs = await collections(fx.testDb.db).contents.find({ fileRecordId: failed.file._id }).toArray();
    assert.deepEqual(revs.map((c) => c.state).sort(), ['stored', 'superseded']);
    await copy(mapping);
    const { file, current, stored } = await contentOf(mapping, id);
    assert.equal(current?.state, 'stored');
    assert.equal(stored?.rev, file.rev);
    assert.ok((await gridFsIds()).files.has(stored.storedFileId ?? ''), 'the stored bytes are there');
    assert.equal((await storedBytes(mapping, id)).toString(), 'level two');
  });

  it('rejects a file over MAX_FILE_BYTES as too_large and copies nothing of it', async () => {
    let id = '';
    const mapping = await mappedFolder((folder) => {
      id = String(
        fx.emulator.addFile(fx.accountId, `${folder}/huge.ifc`, { seed: 2, size: 10 * 1024 * 1024 + 1 })[
          'id'
        ],
      );
    });
    fx.emulator.resetCalls();
    const tooLargeCount = async () =>
      (await filesRejected.get()).values.find((v) => v.labels.reason === 'too_large')?.value ?? 0;
    const countedBefore = await tooLargeCount();
    const result = await copy(mapping);
    assert.equal(result.failed, 1);
    assert.equal(await tooLargeCount(), countedBefore + 1, 'counted in dropbox_sync_files_rejected_total');
    assert.equal(fx.emulator.calls().byRoute['files/download'] ?? 0, 0, 'not downloaded');
    const { current } = await contentOf(mapping, id);
    assert.equal(current?.state, 'failed');
    assert.equal(current?.error?.reason, 'too_large');
    const { rejections } = await fx.repos.rejections.list(mapping._id, { limit: 10 });
    assert.deepEqual(
      rejections.map((r) => [r.kind, r.name]),
      [['too_large', 'huge.ifc']],
    );
  });

  it('counts a file failed once, for its newest rev, when a new rev fails as the old one did', async () => {
    let path = '';
    const mapping = await mappedFolder((folder) => {
      path = `${folder}/model.ifc`;
      fx.emulator.addFile(fx.accountId, path, { seed: 4, size: 10 * 1024 * 1024 + 1 });
    });
    await copy(mapping);
    assert.deepEqual(await fx.repos.contents.counts(mapping._id), { pending: 0, stored: 0, failed: 1 });
    fx.emulator.modifyFile(fx.accountId, path, { seed: 5, size: 10 * 1024 * 1024 + 2 });
    await record(mapping);
    await copy(mapping);
    assert.deepEqual(await fx.repos.contents.counts(mapping._id), { pending: 0, stored: 0, failed: 1 });
  });

  it('records no too_large rejection for a file deleted in Dropbox before its copy came', async () => {
    let folderPath = '';
    const mapping = await mappedFolder((folder) => {
      folderPath = folder;
      fx.emulator.addFile(fx.accountId, `${folder}/huge.ifc`, { seed: 3, size: 10 * 1024 * 1024 + 1 });
    });
    fx.emulator.remove(fx.accountId, `${folderPath}/huge.ifc`);
    await record(mapping);
    const result = await copy(mapping);
    assert.equal(result.failed, 1, 'its rev leaves the copy, not copied');
    const { rejections } = await fx.repos.rejections.list(mapping._id, { limit: 10 });
    assert.deepEqual(rejections, [], 'no rejection of a file no longer in the folder');
  });

  it('fails a file Dropbox cannot download as it is (a Google Doc) with not_downloadable, once, without retrying it', async () => {
    let id = '';
    const mapping = await mappedFolder((folder) => {
      id = String(fx.emulator.addFile(fx.accountId, `${folder}/Site plan.gdoc`, { content: 'exported only', isDownloadable: false })['id']);
    });
    fx.emulator.resetCalls();
    const result = await copy(mapping);
    assert.deepEqual([result.failed, result.pending], [1, 0]);
    assert.equal(fx.emulator.calls().byRoute['files/download'], 1, 'asked once');
    const { current } = await contentOf(mapping, id);
    assert.equal(current?.state, 'failed');
    assert.equal(current?.error?.reason, 'not_downloadable');
    assert.match(current?.error?.message ?? '', /export it/u);
    const again = await copy(mapping);
    assert.deepEqual([again.failed, again.pending, fx.emulator.calls().byRoute['files/download']], [0, 0, 1], 'not tried again');
  });

  it('fails a file whose content Dropbox blocks with restricted, saying so, without retrying it', async () => {
    let id = '';
    const mapping = await mappedFolder((folder) => {
      id = String(fx.emulator.addFile(fx.accountId, `${folder}/Claimed drawing.pdf`, { content: 'blocked', restricted: true })['id']);
    });
    fx.emulator.resetCalls();
    const result = await copy(mapping);
    assert.deepEqual([result.failed, result.pending], [1, 0]);
    const { current } = await contentOf(mapping, id);
    assert.equal(current?.error?.reason, 'restricted');
    assert.match(current?.error?.message ?? '', /blocks the content/u);
    const again = await copy(mapping);
    assert.deepEqual([again.failed, fx.emulator.calls().byRoute['files/download']], [0, 1], 'not tried again');
  });

  it('marks the mapping as missing files.content.read for a token without it, shows its contents failed with missing_scope, and copies once the token has it', async () => {
    let id = '';
    const mapping = await mappedFolder((folder) => {
      id = String(
        fx.emulator.addFile(fx.accountId, `${folder}/scoped.txt`, { content: 'needs the scope' })['id'],
      );
    });
    await fx.replaceToken(
      fx.emulator.issueToken(fx.accountId, { scopes: ['account_info.read', 'files.metadata.read'] }),
    );
    try {
      const result = await copy(mapping);
      assert.equal(result.missingScope, true);
      assert.equal((await fx.repos.mappings.getById(mapping._id))?.contentScopeMissing, true);
      const { current } = await contentOf(mapping, id);
      assert.equal(current?.state, 'pending', 'the content record waits for the scope, untouched');
      const shown = shownContent(current, true);
      assert.equal(shown.contentState, 'failed');
      assert.equal(shown.contentError?.reason, 'missing_scope');
      assert.match(shown.contentError?.message ?? '', /files\.content\.read/u);
      const again = await copy(mapping);
      assert.deepEqual(
        again,
        { stored: 0, failed: 0, pending: 0, missingScope: true },
        'still no scope: nothing tried',
      );
    } finally {
      await fx.replaceToken(fx.token);
    }
    const result = await copy(mapping);
    assert.equal(result.stored, 1);
    assert.equal((await fx.repos.mappings.getById(mapping._id))?.contentScopeMissing, false);
    assert.equal((await storedBytes(mapping, id)).toString(), 'needs the scope');
  });

  it('deletes an upload a dead worker left half written, and stores the file exactly once', async () => {
    let id = '';
    const mapping = await mappedFolder((folder) => {
      id = String(
        fx.emulator.addFile(fx.accountId, `${folder}/big.bin`, { seed: 11, size: 3 * 1024 * 1024 })['id'],
      );
    });
    // What a worker killed mid-file leaves: a named upload with chunks and no files document.
    const { uploadId } = await halfWrittenUpload(mapping);
    await copy(mapping);
    const { current } = await contentOf(mapping, id);
    assert.equal(current?.state, 'stored');
    assert.deepEqual(await fx.repos.contents.uploadsOf(current._id), [], 'no upload is named for the rev');
    const { files, chunks } = await gridFsIds();
    assert.ok(!chunks.has(uploadId), 'the orphan chunks are gone');
    assert.ok(files.has(current?.storedFileId ?? ''));
    assert.ok(
      [...chunks].every((c) => files.has(c)),
      'no chunk without its file',
    );
    assert.ok((await storedBytes(mapping, id)).equals(await emulatorBytes(id)));
  });

  it('deletes an upload a dead worker left half written when the mapping is unmapped before any copy retried it', async () => {
    const mapping = await mappedFolder((folder) => {
      fx.emulator.addFile(fx.accountId, `${folder}/cut.bin`, { seed: 12, size: 2 * 1024 * 1024 });
    });
    const { pending, uploadId } = await halfWrittenUpload(mapping);
    await activities.recordMappingState({ mappingId: mapping._id, state: 'unmapped', lastError: null, lastSyncAt: null });
    assert.ok(!(await gridFsIds()).chunks.has(uploadId), 'the half-written upload is gone');
    const { current } = await contentOf(mapping, pending.content.fileRecordId.split(':').slice(1).join(':'));
    assert.deepEqual(await fx.repos.contents.uploadsOf(pending.content._id), [], 'and it is named no more');
    assert.equal(current?.state, 'pending', 'the rev itself is left as it was');
  });

  it("leaves content records to the copy: a rev the file moved past before its copy began is never copied", async () => {
    let id = '';
    let path = '';
    const mapping = await mappedFolder((folder) => {
      path = `${folder}/twice.txt`;
      id = String(fx.emulator.addFile(fx.accountId, path, { content: 'first' })['id']);
    });
    const { file } = await contentOf(mapping, id);
    const revsOf = () => collections(fx.testDb.db).contents.find({ fileRecordId: file._id }).toArray();
    assert.deepEqual(await revsOf(), [], 'the listing wrote the file record alone');
    await copy(mapping);
    fx.emulator.modifyFile(fx.accountId, path, { content: 'second' });
    await record(mapping);
    fx.emulator.modifyFile(fx.accountId, path, { content: 'third' });
    await record(mapping);
    fx.emulator.resetCalls();
    const copied = await copy(mapping);
    assert.equal(copied.stored, 1);
    assert.equal(fx.emulator.calls().byRoute['files/download'], 1, 'one download: the newest rev');
    assert.equal((await storedBytes(mapping, id)).toString(), 'third');
    const revs = await revsOf();
    assert.deepEqual(revs.map((c) => c.state).sort(), ['stored', 'superseded'], 'the second rev never had a record');
    assert.deepEqual(await fx.repos.contents.counts(mapping._id), { pending: 0, stored: 1, failed: 0 });
  });
});
