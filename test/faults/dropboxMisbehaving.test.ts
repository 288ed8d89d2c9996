/**
 * Dropbox misbehaving, over real servers and the worker as a process: random 5xx and 429 answers,
 * a cursor Dropbox forgets, files renamed, moved, deleted, replaced and modified between cycles,
 * and a token that expires mid-sync. Each ends with the exact check: every file in the folder
 * recorded exactly once with its newest rev, no live record for a file that is not there.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { collections } from '../../src/db/collections';
import { fileRecordId } from '../../src/db/filePlan';
import {
  type FaultHarness,
  type MappedFolder,
  METADATA_SCOPES,
  secondsSince,
  startFaultHarness,
  waitUntil,
} from './support/faultHarness';

/** Small pages: more Dropbox calls, more cursor moves, more places for a fault to land. */
const PAGE_LIMIT = 100;
const LONG_INTERVAL_MS = 5 * 60_000;

function callsBy(h: FaultHarness, token: string, route?: string): number {
  const calls = h.emulator.calls();
  return route === undefined ? (calls.byToken[token] ?? 0) : (calls.byTokenAndRoute[route]?.[token] ?? 0);
}

describe('Dropbox faults during a sync', () => {
  let h: FaultHarness;
  const mapped: MappedFolder[] = [];
  before(async () => {
    h = await startFaultHarness({ pollIntervalMs: LONG_INTERVAL_MS, pageLimit: PAGE_LIMIT, seed: 42 });
    await h.worker.start();
  });
  afterEach(async () => {
    // A finished scenario's workflow would keep polling, and its records would slow every later
    // write: FerretDB (SQLite) scans the whole collection for each update.
    const folder = mapped.pop();
    if (!folder) return;
    await folder.handle.terminate('fault scenario finished').catch(() => undefined);
    await collections(h.db).files.deleteMany({ mappingId: folder.mapping._id });
    await collections(h.db).contents.deleteMany({ mappingId: folder.mapping._id });
    await collections(h.db).pendingContents.deleteMany({ mappingId: folder.mapping._id });
  });
  after(() => h?.close());

  it('records renames, moves out and in, deletions, replacements and edits made between cycles', async (t) => {
    const started = Date.now();
    const path = '/Projects/Library';
    const archive = '/Projects/Archive';
    const folder = await h.mapFolder(path, (accountId) => {
      h.emulator.bulkAddFiles(accountId, path, 40, { prefix: 'sheet-', extension: '.pdf' });
      h.emulator.addFile(accountId, `${archive}/old-drawing.pdf`);
    });
    mapped.push(folder);
    await folder.waitForCycles(1, 120_000);
    const { files } = collections(h.db);
    const record = (dropboxId: string) => files.findOne({ _id: fileRecordId(folder.mapping._id, dropboxId) });
    const at = (name: string) => `${path}/${name}`;
    const idOf = (p: string) => h.emulator.entry(folder.accountId, p)!.id as string;
    const acc = folder.accountId;

    const renamed = idOf(at('sheet-01.pdf'));
    h.emulator.move(acc, at('sheet-01.pdf'), at('Sheet 01 (issued).pdf'));
    const movedOut = idOf(at('sheet-02.pdf'));
    h.emulator.move(acc, at('sheet-02.pdf'), `${archive}/sheet-02.pdf`);
    const deleted = idOf(at('sheet-03.pdf'));
    h.emulator.remove(acc, at('sheet-03.pdf'));
    const modified = idOf(at('sheet-04.pdf'));
    const oldRev = (await record(modified))!.rev;
    const newRev = h.emulator.modifyFile(acc, at('sheet-04.pdf')).rev as string;
    const movedIn = idOf(`${archive}/old-drawing.pdf`);
    h.emulator.move(acc, `${archive}/old-drawing.pdf`, at('old-drawing.pdf'));
    // The same path, another file: deleted and uploaded again...
    const reuploadedOld = idOf(at('sheet-05.pdf'));
    h.emulator.remove(acc, at('sheet-05.pdf'));
    const reuploaded = h.emulator.addFile(acc, at('sheet-05.pdf')).id as string;
    // ...and deleted with another file renamed into its place.
    const replacedOld = idOf(at('sheet-06.pdf'));
    h.emulator.remove(acc, at('sheet-06.pdf'));
    const replacement = idOf(at('sheet-07.pdf'));
    h.emulator.move(acc, at('sheet-07.pdf'), at('sheet-06.pdf'));
    const added = h.emulator.addFile(acc, at('new-sheet.pdf')).id as string;

    await folder.signal('syncNow');
    await folder.waitForCycles(2, 120_000);
    const check = await folder.checkRecorded();

    const r = await record(renamed);
    assert.equal(r?.deletedAt, null);
    assert.equal(r?.name, 'Sheet 01 (issued).pdf');
    assert.equal(r?.path, at('Sheet 01 (issued).pdf'));
    assert.equal(await files.countDocuments({ mappingId: folder.mapping._id, dropboxId: renamed }), 1);
    assert.notEqual((await record(movedOut))?.deletedAt, null, 'moved out: not live');
    assert.notEqual((await record(deleted))?.deletedAt, null, 'deleted: not live');
    const m = await record(modified);
    assert.notEqual(newRev, oldRev);
    assert.equal(m?.rev, newRev);
    assert.equal(m?.deletedAt, null);
    assert.equal((await record(movedIn))?.path, at('old-drawing.pdf'));
    assert.notEqual(
      (await record(reuploadedOld))?.deletedAt,
      null,
      'the file deleted before the upload: not live',
    );
    assert.equal((await record(reuploaded))?.deletedAt, null);
    assert.notEqual(
      (await record(replacedOld))?.deletedAt,
      null,
      'the file deleted before the rename: not live',
    );
    assert.equal((await record(replacement))?.path, at('sheet-06.pdf'));
    assert.equal((await record(added))?.deletedAt, null);
    // 40, less the one moved out and the one deleted, plus the one moved in, less sheet-06 (sheet-07 took
    // its place), plus the new one.
    assert.equal(check.filesInFolder, 40 - 2 + 1 - 1 + 1);
    assert.equal(
      await files.countDocuments({
        mappingId: folder.mapping._id,
        deletedAt: null,
        pathLower: at('sheet-06.pdf').toLowerCase(),
      }),
      1,
    );
    t.diagnostic(
      `1 rename, 1 move out, 1 move in, 1 deletion, 1 edit, 2 replacements at the same path, 1 new file: ` +
        `${callsBy(h, folder.token)} Dropbox calls; files checked: ${check.filesInFolder}, ` +
        `records marked deleted: ${check.deletedRecords}; ${secondsSince(started)} s`,
    );
  });

  it('relists the whole folder after Dropbox resets the cursor, without duplicates, removing files and rejections deleted meanwhile', async (t) => {
    const FILES = 1_000;
    const started = Date.now();
    const path = '/Projects/Bridge';
    const folder = await h.mapFolder(path, (accountId) => {
      h.emulator.bulkAddFiles(accountId, path, FILES);
      for (const name of ['bad #1.pdf', 'bad #2.pdf']) h.emulator.addFile(accountId, `${path}/${name}`);
      for (const name of ['Sub A', 'Sub B']) h.emulator.addFolder(accountId, `${path}/${name}`);
    });
    mapped.push(folder);
    await folder.waitForCycles(1, 120_000);
    const rejected = async () =>
      (await collections(h.db).rejections.find({ mappingId: folder.mapping._id }).toArray())
        .map((r) => `${r.kind}:${r.name}`)
        .sort();
    assert.deepEqual(await rejected(), ['special_characters:bad #1.pdf', 'special_characters:bad #2.pdf', 'subfolder:Sub A', 'subfolder:Sub B']);
    const initialSync = secondsSince(started);
    const resetAt = Date.now();
    const fullListings = callsBy(h, folder.token, 'files/list_folder');
    const resets = h.emulator.calls().byStatus['409'] ?? 0;

    // Changes while the cursor is lost: its changes are never reported, only a full relisting finds them.
    const deleted: string[] = [];
    for (let n = 1; n <= 25; n += 1) {
      const file = `${path}/file-${String(n).padStart(4, '0')}.pdf`;
      deleted.push(h.emulator.entry(folder.accountId, file)!.id as string);
      h.emulator.remove(folder.accountId, file);
    }
    h.emulator.bulkAddFiles(folder.accountId, path, 10, { startAt: FILES + 1 });
    for (let n = 100; n < 105; n += 1)
      h.emulator.modifyFile(folder.accountId, `${path}/file-${String(n).padStart(4, '0')}.pdf`);
    h.emulator.remove(folder.accountId, `${path}/bad #1.pdf`);
    h.emulator.remove(folder.accountId, `${path}/Sub A`);
    h.emulator.forceCursorReset(folder.accountId, path);
    await folder.signal('syncNow');
    await folder.waitForCycles(2, 120_000);

    assert.equal(callsBy(h, folder.token, 'files/list_folder'), fullListings + 1, 'one full relisting');
    assert.ok(
      (h.emulator.calls().byStatus['409'] ?? 0) > resets,
      'Dropbox answered the old cursor with a reset',
    );
    const check = await folder.checkRecorded();
    assert.equal(check.filesInFolder, FILES - 25 + 10);
    assert.equal(check.deletedRecords, 25);
    const records = await collections(h.db)
      .files.find({ _id: { $in: deleted.map((id) => fileRecordId(folder.mapping._id, id)) } })
      .toArray();
    assert.equal(records.length, 25);
    assert.ok(records.every((r) => r.deletedAt !== null));
    assert.deepEqual(await rejected(), ['special_characters:bad #2.pdf', 'subfolder:Sub B'], 'what the relisting did not see is no rejection');
    t.diagnostic(
      `cursor reset after 25 deletions, 10 additions, 5 edits: ${callsBy(h, folder.token)} Dropbox calls, ` +
        `full listings ${fullListings} -> ${fullListings + 1}; files checked: ${check.filesInFolder}, ` +
        `records marked deleted: ${check.deletedRecords}; initial sync ${initialSync} s, relisting ` +
        `${secondsSince(resetAt)} s, ${secondsSince(started)} s in all`,
    );
  });

  it('turns needs_credentials when the token expires mid-sync, calls Dropbox once per interval while waiting, and completes with a new token', async (t) => {
    const FILES = 2_000;
    const POLL_MS = 2_000;
    const started = Date.now();
    const path = '/Projects/Metro station';
    const folder = await h.mapFolder(path, (accountId) => h.emulator.bulkAddFiles(accountId, path, FILES), {
      pollIntervalMs: POLL_MS,
    });
    mapped.push(folder);
    const expired = folder.token;
    let atExpiry = 0;
    await waitUntil(
      async () => {
        atExpiry = await folder.liveCount();
        return atExpiry >= 3 * PAGE_LIMIT;
      },
      120_000,
      'the sync to get going',
      20,
    );
    h.emulator.expireToken(expired);
    const expiredAt = Date.now();
    const callsAtExpiry = callsBy(h, expired);
    assert.ok(atExpiry < FILES, `the sync had ended (${atExpiry} records) before the token expired`);

    let callsAtState = 0;
    await waitUntil(
      async () => {
        callsAtState = callsBy(h, expired);
        return (await h.repos.mappings.getById(folder.mapping._id))?.state === 'needs_credentials';
      },
      30_000,
      'needs_credentials',
      50,
    );
    const toState = Date.now() - expiredAt;
    // The call that met the expired token (and one already on its way) but no retries.
    assert.ok(
      callsAtState - callsAtExpiry <= 2,
      `${callsAtState - callsAtExpiry} calls before needs_credentials`,
    );
    assert.ok(toState < POLL_MS + 10_000, `needs_credentials after ${toState} ms`);
    assert.match((await folder.status()).lastError ?? '', /expired/iu);

    // Waiting: one call (validateToken) per interval, never more.
    const windowMs = 5 * POLL_MS;
    const callTimes: number[] = [];
    let last = callsBy(h, expired);
    const watchFrom = Date.now();
    while (Date.now() - watchFrom < windowMs) {
      await new Promise((done) => setTimeout(done, 25));
      const now = callsBy(h, expired);
      for (; last < now; last += 1) callTimes.push(Date.now());
    }
    const gaps = callTimes.slice(1).map((at, i) => at - callTimes[i]!);
    assert.ok(callTimes.length >= 2, `it kept trying: ${callTimes.length} calls in ${windowMs} ms`);
    assert.ok(callTimes.length <= windowMs / POLL_MS + 1, `${callTimes.length} calls in ${windowMs} ms`);
    assert.ok(
      gaps.every((gap) => gap >= POLL_MS - 200),
      `gaps between calls: ${gaps.join(', ')} ms`,
    );
    const stalled = await folder.liveCount();
    assert.equal((await h.repos.mappings.getById(folder.mapping._id))?.state, 'needs_credentials');

    // Like the first token, it may not download: this scenario is about credentials, and a copy of
    // 2,000 files' contents would hold the run's continue-as-new past the test's wait.
    const fresh = h.emulator.issueToken(folder.accountId, { scopes: METADATA_SCOPES });
    await folder.replaceToken(fresh);
    await folder.signal('credentialsUpdated');
    await waitUntil(
      async () =>
        (await h.repos.mappings.getById(folder.mapping._id))?.state === 'active' &&
        (await folder.liveCount()) === FILES,
      120_000,
      'the sync to complete with the new token',
    );
    await folder.waitForCycles(1, 60_000);
    const check = await folder.checkRecorded();
    assert.equal(check.filesInFolder, FILES);
    assert.equal(check.deletedRecords, 0);
    t.diagnostic(
      `token expired at ${atExpiry} of ${FILES} records; needs_credentials after ${toState} ms and ` +
        `${callsAtState - callsAtExpiry} call(s); while waiting ${callTimes.length} calls in ${windowMs / 1000} s ` +
        `(poll interval ${POLL_MS / 1000} s, gaps ${gaps.join(', ')} ms), ${stalled} records; after the new token ` +
        `${callsBy(h, fresh)} calls; files checked: ${check.filesInFolder}; ${secondsSince(started)} s`,
    );
  });

  it('records all 3,000 files with 20% of calls failing 5xx and 10% answered 429, never calling before Retry-After', async (t) => {
    const FILES = 3_000;
    const started = Date.now();
    const path = '/Projects/Stadium';
    h.emulator.resetCalls();
    h.emulator.setFaults({ serverErrorRate: 0.2, rateLimitRate: 0.1, retryAfterSeconds: 1 });
    const folder = await h.mapFolder(path, (accountId) => h.emulator.bulkAddFiles(accountId, path, FILES));
    mapped.push(folder);
    await folder.waitForCycles(1, 240_000);
    const calls = h.emulator.calls();
    const violations = h.emulator.violations().filter((v) => v.token === folder.token);
    h.emulator.clearFaults();

    assert.deepEqual(violations, [], 'calls came before Retry-After had passed');
    const status = calls.byStatus;
    const serverErrors = Object.entries(status)
      .filter(([code]) => code.startsWith('5'))
      .reduce((sum, [, n]) => sum + n, 0);
    const rateLimited = status['429'] ?? 0;
    assert.ok(serverErrors > 0 && rateLimited > 0, `faults were injected: ${JSON.stringify(status)}`);
    const check = await folder.checkRecorded();
    assert.equal(check.filesInFolder, FILES);
    assert.equal(check.deletedRecords, 0);
    t.diagnostic(
      `faults injected: ${serverErrors} 5xx, ${rateLimited} 429 (Retry-After 1 s) of ${calls.total} Dropbox calls ` +
        `${JSON.stringify(status)}; Retry-After violations: ${violations.length}; files checked: ${check.filesInFolder}; ` +
        `${secondsSince(started)} s`,
    );
  });
});
