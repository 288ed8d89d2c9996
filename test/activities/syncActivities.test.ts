/**
 * The sync activities over FerretDB and the Dropbox emulator, called as the worker calls them:
 * paging, idempotent persistence, rejections, skipped subfolders, cursor resets and credentials.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createActivities, type Activities } from '../../src/activities';
import { MAPPING_RECHECK_MS } from '../../src/activities/knownMappings';
import { collections } from '../../src/db/collections';
import { filesRejected } from '../../src/metrics';
import { createRepositories } from '../../src/db/repositories';
import { FailureTypes } from '../../src/domain/failureTypes';
import type { ListedPage, ListingPageRef, Mapping } from '../../src/domain/types';
import type { Repositories } from '../../src/db/repositories';
import { failureOf } from '../support/failures';
import { FOLDER, openSyncFixture, type SyncFixture } from '../support/syncFixture';

/** A listed page as `listFolder` kept it, read back for the assertions. */
type ListedKeptPage = Omit<ListedPage, 'cursor' | 'hasMore'> & { cursor: string; hasMore: boolean; ref?: ListingPageRef };

// Every listing takes the next slot, so pages listed one after another never replace each other.
let nextSlot = 0;

async function listAll(a: Activities, repos: Repositories, mappingId: string, cursor?: string): Promise<ListedKeptPage[]> {
  const pages: ListedKeptPage[] = [];
  let next = cursor;
  for (;;) {
    const keepInSlot = (nextSlot++ % 4) as ListingPageRef['slot'];
    const summary = await a.listFolder({ mappingId, keepInSlot, ...(next ? { cursor: next } : {}) });
    const found = summary.page ? await repos.listingPages.find(mappingId, summary.page) : undefined;
    const entries = found?.status === 'kept' ? found.page : { files: [], folders: [], deletedPaths: [] };
    const { files, folders, deletedPaths } = entries;
    pages.push({ cursor: summary.cursor, hasMore: summary.hasMore, files, folders, deletedPaths, ...(summary.page ? { ref: summary.page } : {}) });
    next = summary.cursor;
    if (!summary.hasMore) return pages;
  }
}

async function persistAll(a: Activities, mapping: Mapping, pages: ListedKeptPage[], generation: number) {
  const totals = { added: 0, updated: 0, unchanged: 0, deleted: 0 };
  for (const [i, page] of pages.entries()) {
    const result = await a.persistNewFiles({
      mappingId: mapping._id,
      projectId: mapping.projectId,
      ...(page.ref ? { page: page.ref } : {}),
      listingGeneration: generation,
      sweep: i === pages.length - 1,
    });
    for (const key of Object.keys(totals) as (keyof typeof totals)[]) totals[key] += result[key];
  }
  return totals;
}

describe('sync activities over FerretDB and the Dropbox emulator', () => {
  let fx: SyncFixture;
  let activities: Activities;

  before(async () => {
    fx = await openSyncFixture('activities');
    activities = createActivities(fx.deps);
  });
  after(() => fx.close());

  it('lists a 5,000-file folder in pages of at most 2,000 and persists every file once', async () => {
    const path = `${FOLDER}/Drawings`;
    fx.emulator.addFolder(fx.accountId, path);
    fx.emulator.bulkAddFiles(fx.accountId, path, 5_000, { prefix: 'drawing-', extension: '.pdf' });
    const mapping = await fx.newMapping(path);
    fx.emulator.resetCalls();

    const pages = await listAll(activities, fx.repos, mapping._id);
    assert.equal(pages.length, 3);
    assert.ok(pages.every((p) => p.files.length <= 2_000));
    const ids = pages.flatMap((p) => p.files.map((f) => f.id));
    assert.equal(ids.length, 5_000);
    assert.equal(new Set(ids).size, 5_000);
    assert.equal(fx.emulator.calls().byRoute['files/list_folder'], 1);
    assert.equal(fx.emulator.calls().byRoute['files/list_folder/continue'], 2);

    const first = await persistAll(activities, mapping, pages, 1);
    assert.deepEqual(first, { added: 5_000, updated: 0, unchanged: 0, deleted: 0 });
    assert.equal(await fx.repos.files.countLive(mapping._id), 5_000);

    // A retried activity, or the same pages after a crash, changes nothing.
    const again = await persistAll(activities, mapping, pages, 1);
    assert.deepEqual(again, { added: 0, updated: 0, unchanged: 5_000, deleted: 0 });
    assert.equal(await collections(fx.testDb.db).files.countDocuments({ mappingId: mapping._id }), 5_000);
  });

  it('keeps the newest rev when an older page is persisted after a newer one', async () => {
    const path = `${FOLDER}/Revisions`;
    fx.emulator.addFolder(fx.accountId, path);
    fx.emulator.addFile(fx.accountId, `${path}/Section A-A.dwg`, { size: 10 });
    const mapping = await fx.newMapping(path);
    const [older] = await listAll(activities, fx.repos, mapping._id);
    fx.emulator.modifyFile(fx.accountId, `${path}/Section A-A.dwg`, { size: 20 });
    const newer = await listAll(activities, fx.repos, mapping._id, older!.cursor);
    const newRev = newer[0]!.files[0]!.rev;
    assert.notEqual(newRev, older!.files[0]!.rev);

    await persistAll(activities, mapping, newer, 1);
    const stale = await persistAll(activities, mapping, [older!], 1);
    assert.equal(stale.updated, 0);
    const [record] = await fx.repos.files.listAllLive(mapping._id);
    assert.equal(record!.rev, newRev);
    assert.equal(record!.size, 20);
  });

  it('rejects "plan#2?.pdf" with its characters, accepts "Kaivanto ä ö.dwg", and skips subfolders with the hint', async () => {
    const path = `${FOLDER}/Site`;
    fx.emulator.addFolder(fx.accountId, path);
    fx.emulator.addFile(fx.accountId, `${path}/plan#2?.pdf`);
    fx.emulator.addFile(fx.accountId, `${path}/Kaivanto ä ö.dwg`);
    fx.emulator.addFile(fx.accountId, `${path}/Photos/IMG_0001.jpg`);
    const mapping = await fx.newMapping(path);
    const refusedCount = async () =>
      (await filesRejected.get()).values.find((v) => v.labels.reason === 'special_characters')?.value ?? 0;
    const countedBefore = await refusedCount();

    const [page] = await listAll(activities, fx.repos, mapping._id);
    assert.deepEqual(page!.folders.map((f) => f.name), ['Photos']);
    assert.equal(page!.files.length, 2, 'files in the subfolder are not listed');
    const check = () =>
      activities.rejectSpecialCharacterPaths({
        mappingId: mapping._id,
        projectId: mapping.projectId,
        page: page!.ref!,
        listingGeneration: 1,
      });
    const result = await check();
    const bad = page!.files.find((f) => f.name === 'plan#2?.pdf')!;
    assert.deepEqual(result, { rejectedFileIds: [bad.id], skippedFolders: 1 });
    // Checked again (a retry, a relisting): the same answer, and the refused file counted once.
    assert.deepEqual(await check(), result);
    assert.equal(await refusedCount(), countedBefore + 1, 'dropbox_sync_files_rejected_total counts each file once');

    const { rejections } = collections(fx.testDb.db);
    const recorded = await rejections.find({ mappingId: mapping._id }).sort({ kind: 1 }).toArray();
    assert.equal(recorded.length, 2);
    assert.equal(recorded[0]!.kind, 'special_characters');
    assert.deepEqual(recorded[0]!.characters, ['#', '?']);
    assert.equal(recorded[1]!.kind, 'subfolder');
    assert.match(recorded[1]!.hint ?? '', /mapping/i);

    // Renamed to an acceptable name: the file is persisted and its rejection goes away.
    fx.emulator.move(fx.accountId, `${path}/plan#2?.pdf`, `${path}/plan 2.pdf`);
    const [changes] = await listAll(activities, fx.repos, mapping._id, page!.cursor);
    await persistAll(activities, mapping, [changes!], 1);
    assert.equal(await rejections.countDocuments({ mappingId: mapping._id, kind: 'special_characters' }), 0);
    const names = (await fx.repos.files.listAllLive(mapping._id)).map((f) => f.name).sort();
    assert.deepEqual(names, ['plan 2.pdf']);
  });

  it('drops what a path held before when Dropbox reports another item there: rejections of other items, a file now a folder', async () => {
    const path = `${FOLDER}/Taken over`;
    fx.emulator.addFolder(fx.accountId, path);
    fx.emulator.addFolder(fx.accountId, `${path}/Drawings`);
    fx.emulator.addFile(fx.accountId, `${path}/a?.txt`);
    fx.emulator.addFile(fx.accountId, `${path}/x.pdf`);
    const mapping = await fx.newMapping(path);
    const check = (page: ListedKeptPage, fullListing: boolean) =>
      activities.rejectSpecialCharacterPaths({
        mappingId: mapping._id,
        projectId: mapping.projectId,
        page: page.ref!,
        listingGeneration: 1,
        ...(fullListing ? { fullListing } : {}),
      });
    const [first] = await listAll(activities, fx.repos, mapping._id);
    const { rejectedFileIds } = await check(first!, true);
    await activities.persistNewFiles({ mappingId: mapping._id, projectId: mapping.projectId, page: first!.ref!, rejectedFileIds, listingGeneration: 1, sweep: true });
    const { rejections } = collections(fx.testDb.db);
    const shown = async () =>
      (await rejections.find({ mappingId: mapping._id }).toArray()).map((r) => `${r.kind} ${r.name} ${r.dropboxId}`).sort();
    assert.equal((await shown()).length, 2);

    // Made again (new ids), and a file replaced by a folder of its name: Dropbox reports only the new items.
    fx.emulator.remove(fx.accountId, `${path}/Drawings`);
    fx.emulator.remove(fx.accountId, `${path}/a?.txt`);
    fx.emulator.remove(fx.accountId, `${path}/x.pdf`);
    const drawings = fx.emulator.addFolder(fx.accountId, `${path}/Drawings`);
    const again = fx.emulator.addFile(fx.accountId, `${path}/a?.txt`);
    const folder = fx.emulator.addFolder(fx.accountId, `${path}/x.pdf`);
    const [changes] = await listAll(activities, fx.repos, mapping._id, first!.cursor);
    const checked = await check(changes!, false);
    await activities.persistNewFiles({ mappingId: mapping._id, projectId: mapping.projectId, page: changes!.ref!, rejectedFileIds: checked.rejectedFileIds, listingGeneration: 1, sweep: false });
    assert.deepEqual(await shown(), [
      `special_characters a?.txt ${again.id}`,
      `subfolder Drawings ${drawings.id}`,
      `subfolder x.pdf ${folder.id}`,
    ]);
    assert.deepEqual(await fx.repos.files.listAllLive(mapping._id), [], 'x.pdf is a folder now: its file is deleted');
  });

  it('keeps a listed page in MongoDB, out of the history: checked, recorded, then dropped', async () => {
    const path = `${FOLDER}/Kept`;
    fx.emulator.addFolder(fx.accountId, path);
    fx.emulator.bulkAddFiles(fx.accountId, path, 30, { prefix: 'sheet-', extension: '.pdf' });
    fx.emulator.addFile(fx.accountId, `${path}/bad|name.pdf`);
    fx.emulator.addFolder(fx.accountId, `${path}/Sub`);
    const mapping = await fx.newMapping(path);
    const { listingPages } = collections(fx.testDb.db);

    // The third slot: a listing runs two pages ahead of the recording.
    const summary = await activities.listFolder({ mappingId: mapping._id, keepInSlot: 2 });
    assert.deepEqual(summary.counts, { files: 31, folders: 1, deletedPaths: 0 });
    assert.equal(summary.page?.slot, 2);
    assert.ok(!JSON.stringify(summary).includes('sheet-'), 'the summary names no file');
    const kept = await fx.repos.listingPages.find(mapping._id, summary.page!);
    assert.equal(kept.status === 'kept' && kept.page.files.length, 31);
    const stored = JSON.stringify(await listingPages.findOne({ _id: `${mapping._id}:2` }));
    assert.ok(!stored.includes('sheet-'), 'stored compressed');

    const page = summary.page!;
    // Checked by another worker: it has no copy of the page and reads MongoDB's.
    const otherWorker = createActivities({ ...fx.deps, repos: createRepositories(fx.testDb.db) });
    const checked = await otherWorker.rejectSpecialCharacterPaths({ mappingId: mapping._id, projectId: mapping.projectId, page, listingGeneration: 1 });
    assert.equal(checked.rejectedFileIds.length, 1);
    assert.equal(checked.skippedFolders, 1);
    const persist = {
      mappingId: mapping._id,
      projectId: mapping.projectId,
      page,
      rejectedFileIds: checked.rejectedFileIds,
      listingGeneration: 1,
      sweep: false,
      fullListing: true,
    };
    assert.deepEqual(await activities.persistNewFiles(persist), { added: 30, updated: 0, unchanged: 0, deleted: 0 });
    assert.equal(await fx.repos.files.countLive(mapping._id), 30);
    assert.equal(await listingPages.countDocuments({ mappingId: mapping._id }), 1, 'kept until the listing ends');
    // A retry of a page whose completion was lost records it again, changing nothing.
    assert.deepEqual(await activities.persistNewFiles(persist), { added: 0, updated: 0, unchanged: 30, deleted: 0 });
    const last = { ...persist, endsListing: true };
    await activities.persistNewFiles(last);
    assert.equal(await listingPages.countDocuments({ mappingId: mapping._id }), 0, 'dropped with the last page');
    // The last page's retry whose first attempt finished finds the slot empty: nothing to do.
    assert.deepEqual(await activities.persistNewFiles(last), { added: 0, updated: 0, unchanged: 0, deleted: 0 });

    // An empty page (nothing changed) is not kept: an idle cycle writes nothing.
    const idle = await activities.listFolder({ mappingId: mapping._id, cursor: summary.cursor, keepInSlot: 0 });
    assert.equal(idle.page, undefined);
    assert.equal(await listingPages.countDocuments({ mappingId: mapping._id }), 0);

    // An attempt Temporal gave up on, ending its listing late, drops only that listing's pages:
    // a page the next cycle kept meanwhile is still there to be recorded.
    fx.emulator.addFile(fx.accountId, `${path}/later.pdf`);
    const stale = await activities.listFolder({ mappingId: mapping._id, cursor: summary.cursor, keepInSlot: 1 });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const next = await activities.listFolder({ mappingId: mapping._id, cursor: summary.cursor, keepInSlot: 2 });
    await activities.persistNewFiles({ ...persist, page: stale.page!, rejectedFileIds: [], endsListing: true });
    assert.equal((await fx.repos.listingPages.find(mapping._id, next.page!)).status, 'kept');
    assert.equal((await createRepositories(fx.testDb.db).listingPages.find(mapping._id, next.page!)).status, 'kept', 'in MongoDB too');
  });

  it('refuses to check or record a kept page that a later listing replaced, and unmapping drops kept pages', async () => {
    const path = `${FOLDER}/Replaced`;
    fx.emulator.addFolder(fx.accountId, path);
    fx.emulator.bulkAddFiles(fx.accountId, path, 3);
    const mapping = await fx.newMapping(path);
    const first = await activities.listFolder({ mappingId: mapping._id, keepInSlot: 0 });
    const second = await activities.listFolder({ mappingId: mapping._id, keepInSlot: 0 });
    const base = { mappingId: mapping._id, projectId: mapping.projectId };
    const refused = await failureOf(activities.rejectSpecialCharacterPaths({ ...base, page: first.page!, listingGeneration: 1 }));
    assert.equal(refused.type, FailureTypes.listingPageMissing);
    assert.equal(refused.nonRetryable, true);
    const notRecorded = await failureOf(
      activities.persistNewFiles({ ...base, page: first.page!, listingGeneration: 1, sweep: false }),
    );
    assert.equal(notRecorded.type, FailureTypes.listingPageMissing);
    assert.equal(await fx.repos.files.countLive(mapping._id), 0);

    await activities.listFolder({ mappingId: mapping._id, keepInSlot: 1 });
    const { listingPages } = collections(fx.testDb.db);
    assert.equal(await listingPages.countDocuments({ mappingId: mapping._id }), 2);
    assert.ok(second.page);
    await activities.recordMappingState({ mappingId: mapping._id, state: 'unmapped', lastError: null, lastSyncAt: null });
    assert.equal(await listingPages.countDocuments({ mappingId: mapping._id }), 0);
  });

  it('hands the token check\'s credentials to the listing that follows on the same worker, once', async () => {
    const path = `${FOLDER}/Handed over`;
    fx.emulator.addFolder(fx.accountId, path);
    fx.emulator.bulkAddFiles(fx.accountId, path, 4, { prefix: 'sheet-' });
    const mapping = await fx.newMapping(path);
    let connectionReads = 0;
    const { connections } = fx.repos;
    const worker = createActivities({
      ...fx.deps,
      pageLimit: 2,
      repos: { ...fx.repos, connections: { getById: (id) => (connectionReads++, connections.getById(id)) } },
    });
    await worker.validateToken({ mappingId: mapping._id });
    assert.equal(connectionReads, 1);
    const first = await worker.listFolder({ mappingId: mapping._id, keepInSlot: 0 });
    assert.equal(connectionReads, 1, 'the first page used what the check loaded');
    await worker.listFolder({ mappingId: mapping._id, cursor: first.cursor, keepInSlot: 1 });
    assert.equal(connectionReads, 2, 'a later page reads the connection again: its token may have been replaced');
  });

  it('keeps what the check of a later page rejected, though the page before it is recorded afterwards', async () => {
    // The workflow checks page N+1 while page N is recorded. Between the two listings a file of
    // page N was renamed to a refused name, and a deleted refused file came back at its path.
    const path = `${FOLDER}/Renamed between pages`;
    fx.emulator.addFolder(fx.accountId, path);
    fx.emulator.addFile(fx.accountId, `${path}/a.pdf`);
    fx.emulator.addFile(fx.accountId, `${path}/q#.pdf`);
    const mapping = await fx.newMapping(path);
    const base = { mappingId: mapping._id, projectId: mapping.projectId, listingGeneration: 1 };
    const listAndCheck = async (cursor: string | undefined, keepInSlot: 0 | 1 | 2) => {
      const summary = await activities.listFolder({ mappingId: mapping._id, keepInSlot, ...(cursor ? { cursor } : {}) });
      const checked = await activities.rejectSpecialCharacterPaths({ ...base, page: summary.page! });
      return { summary, recording: { ...base, page: summary.page!, rejectedFileIds: checked.rejectedFileIds, sweep: false } };
    };
    const first = await listAndCheck(undefined, 0);
    await activities.persistNewFiles({ ...first.recording, fullListing: true, firstListing: true, endsListing: true });

    fx.emulator.addFile(fx.accountId, `${path}/x.pdf`);
    fx.emulator.remove(fx.accountId, `${path}/q#.pdf`);
    const pageN = await listAndCheck(first.summary.cursor, 1);
    fx.emulator.move(fx.accountId, `${path}/x.pdf`, `${path}/x#.pdf`);
    fx.emulator.addFile(fx.accountId, `${path}/q#.pdf`);
    const pageNext = await listAndCheck(pageN.summary.cursor, 2);
    assert.equal(pageNext.recording.rejectedFileIds.length, 2);

    await activities.persistNewFiles(pageN.recording);
    await activities.persistNewFiles({ ...pageNext.recording, endsListing: true });

    const { rejections } = collections(fx.testDb.db);
    const rejected = await rejections.find({ mappingId: mapping._id }).toArray();
    assert.deepEqual(rejected.map((r) => r.name).sort(), ['q#.pdf', 'x#.pdf']);
    const names = (await fx.repos.files.listAllLive(mapping._id)).map((f) => f.name);
    assert.deepEqual(names, ['a.pdf'], 'x.pdf is gone from its name, and its new name is refused');

    // A later cycle: renamed back to a good name, the file is recorded and its older rejection goes.
    fx.emulator.move(fx.accountId, `${path}/x#.pdf`, `${path}/x 2.pdf`);
    const later = await listAndCheck(pageNext.summary.cursor, 0);
    await activities.persistNewFiles({ ...later.recording, endsListing: true });
    const left = await rejections.find({ mappingId: mapping._id }).toArray();
    assert.deepEqual(left.map((r) => r.name), ['q#.pdf']);
    const renamed = (await fx.repos.files.listAllLive(mapping._id)).map((f) => f.name).sort();
    assert.deepEqual(renamed, ['a.pdf', 'x 2.pdf']);
  });

  it('fails with a cursor reset when Dropbox resets the cursor, and lists again from the start', async () => {
    const path = `${FOLDER}/Reset`;
    fx.emulator.addFolder(fx.accountId, path);
    fx.emulator.bulkAddFiles(fx.accountId, path, 3);
    const mapping = await fx.newMapping(path);
    const [page] = await listAll(activities, fx.repos, mapping._id);
    fx.emulator.forceCursorReset(fx.accountId, path);

    const failure = await failureOf(activities.listFolder({ mappingId: mapping._id, cursor: page!.cursor, keepInSlot: 0 }));
    assert.equal(failure.type, FailureTypes.cursorReset);
    assert.equal(failure.nonRetryable, true);
    const fresh = await listAll(activities, fx.repos, mapping._id);
    assert.equal(fresh.flatMap((p) => p.files).length, 3);
  });

  it('treats a cursor Dropbox refuses as malformed (another account\'s) as a reset', async () => {
    const path = `${FOLDER}/Foreign cursor`;
    fx.emulator.addFolder(fx.accountId, path);
    const mapping = await fx.newMapping(path);
    const failure = await failureOf(activities.listFolder({ mappingId: mapping._id, cursor: 'AAAA-not-a-cursor', keepInSlot: 0 }));
    assert.equal(failure.type, FailureTypes.cursorReset);
  });

  it('refuses an expired token without retrying, and never puts the token in the error or the logs', async () => {
    const path = `${FOLDER}/Expired`;
    fx.emulator.addFolder(fx.accountId, path);
    const mapping = await fx.newMapping(path);
    const token = fx.emulator.issueToken(fx.accountId);
    await fx.replaceToken(token);
    fx.emulator.expireToken(token);

    const failure = await failureOf(activities.validateToken({ mappingId: mapping._id }));
    assert.equal(failure.type, FailureTypes.credentialsRejected);
    assert.equal(failure.nonRetryable, true);
    assert.ok(!JSON.stringify({ message: failure.message, details: failure.details }).includes(token));
    assert.ok(!fx.logLines.join('\n').includes(token));

    await fx.replaceToken(fx.token);
    const checked = await activities.validateToken({ mappingId: mapping._id });
    assert.deepEqual(Object.keys(checked).sort(), ['accountId', 'listingPolicy']);
    assert.match(checked.listingPolicy, /^[0-9a-f]{16}$/u, 'a fingerprint of the policy, nothing of the token');
  });

  it('reads the connection once per cycle and the mapping once an hour: the listing takes what the token check loaded', async () => {
    const path = `${FOLDER}/Handoff`;
    fx.emulator.addFolder(fx.accountId, path);
    fx.emulator.addFile(fx.accountId, `${path}/Plan.pdf`);
    const mapping = await fx.newMapping(path);
    const reads = { mappings: 0, connections: 0 };
    const { repos } = fx.deps;
    let clock = Date.now();
    const counted = createActivities({
      ...fx.deps,
      now: () => new Date(clock),
      repos: {
        ...repos,
        mappings: { ...repos.mappings, getById: (id) => (reads.mappings++, repos.mappings.getById(id)) },
        connections: { getById: (id) => (reads.connections++, repos.connections.getById(id)) },
      },
    });

    await counted.validateToken({ mappingId: mapping._id });
    const first = await counted.listFolder({ mappingId: mapping._id, keepInSlot: 0 });
    assert.equal(first.counts.files, 1);
    assert.deepEqual(reads, { mappings: 1, connections: 1 });

    // A listing no check just preceded (a later page, a retry) reads the connection itself.
    await counted.listFolder({ mappingId: mapping._id, cursor: first.cursor, keepInSlot: 1 });
    assert.deepEqual(reads, { mappings: 1, connections: 2 });

    // The first read is trusted for part of the hour (a random part: rechecks spread out), a recheck for all of it.
    clock += MAPPING_RECHECK_MS;
    await counted.validateToken({ mappingId: mapping._id });
    assert.deepEqual(reads, { mappings: 2, connections: 3 }, 'the mapping is read again within an hour');
    clock += MAPPING_RECHECK_MS - 1;
    await counted.validateToken({ mappingId: mapping._id });
    assert.deepEqual(reads, { mappings: 2, connections: 4 });
    clock += 1;
    await counted.validateToken({ mappingId: mapping._id });
    assert.deepEqual(reads, { mappings: 3, connections: 5 }, 'and again an hour after the recheck');

    // Unmapped behind the workflow's back: noticed at the next read of the mapping.
    await fx.repos.mappings.markUnmapped(mapping._id);
    await counted.validateToken({ mappingId: mapping._id }); // within the hour: not read yet
    clock += MAPPING_RECHECK_MS;
    const failure = await failureOf(counted.validateToken({ mappingId: mapping._id }));
    assert.equal(failure.type, FailureTypes.mappingGone);
    assert.equal(failure.nonRetryable, true);
  });

  it('fails a listing of a folder that no longer exists as folder missing', async () => {
    const path = `${FOLDER}/Gone`;
    fx.emulator.addFolder(fx.accountId, path);
    const mapping = await fx.newMapping(path);
    fx.emulator.remove(fx.accountId, path);
    const failure = await failureOf(activities.listFolder({ mappingId: mapping._id, keepInSlot: 0 }));
    assert.equal(failure.type, FailureTypes.folderMissing);
  });
});
