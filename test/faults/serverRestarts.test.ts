/**
 * Servers going away in the middle of a sync and coming back on the same port and data: FerretDB,
 * then the Temporal dev server (with its database file). The worker keeps running through both;
 * each sync completes and ends with the exact check: every file in the folder recorded exactly
 * once with its newest rev, no live record for a file that is not there.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  type FaultHarness,
  type MappedFolder,
  secondsSince,
  startFaultHarness,
  waitUntil,
} from './support/faultHarness';

const FILES = 6_000;
/** Small pages: many page boundaries, so the outage lands mid-listing. */
const PAGE_LIMIT = 500;
/**
 * Longer than any timeout a cycle's steps have (a workflow task's 10 s, an activity's heartbeat),
 * so the outage lands while steps are in flight and their timeouts run out.
 */
const OUTAGE_MS = 30_000;
/**
 * Each Dropbox call takes this long until the server is back, so that the ten pages after the
 * second take seconds: otherwise a fast machine records the whole folder between two looks.
 */
const DROPBOX_LATENCY_MS = 400;

/** Maps a folder of FILES files with Dropbox slowed down (see DROPBOX_LATENCY_MS). */
async function mapSlowly(h: FaultHarness, path: string): Promise<MappedFolder> {
  h.emulator.setFaults({ latencyMs: DROPBOX_LATENCY_MS });
  return h.mapFolder(path, (accountId) => h.emulator.bulkAddFiles(accountId, path, FILES));
}

/** Stops a server once the initial sync is under way, starts it again, waits for the sync to end. */
async function outageMidSync(
  h: FaultHarness,
  folder: MappedFolder,
  server: { stop(): Promise<void>; start(): Promise<void> },
): Promise<{ before: number; outage: string }> {
  const before = await waitForMidSync(folder);
  const down = Date.now();
  await server.stop();
  await new Promise((done) => setTimeout(done, OUTAGE_MS));
  await server.start();
  const outage = secondsSince(down);
  h.emulator.clearFaults();
  await folder.waitForCycles(1, 240_000);
  return { before, outage };
}

/** Waits until the initial sync is under way but far from done. */
async function waitForMidSync(folder: MappedFolder): Promise<number> {
  let count = 0;
  await waitUntil(
    async () => {
      count = await folder.liveCount();
      return count >= 2 * PAGE_LIMIT;
    },
    120_000,
    'the sync to get going',
    100,
  );
  assert.ok(count < FILES, `the sync had ended (${count} records) before the outage`);
  return count;
}

describe('servers restarted during a sync', () => {
  let h: FaultHarness;
  before(async () => {
    h = await startFaultHarness({ pollIntervalMs: 5 * 60_000, pageLimit: PAGE_LIMIT });
    await h.worker.start();
  });
  after(() => h?.close());

  it('completes the sync exactly once, listing once from the start, when FerretDB is stopped for 30 s mid-sync', async (t) => {
    const started = Date.now();
    const path = '/Projects/Parking deck';
    const folder = await mapSlowly(h, path);
    const { before, outage } = await outageMidSync(h, folder, h.ferretDb);

    assert.ok(h.worker.running(), 'the worker went down with the database');
    assert.equal(h.worker.starts(), 1);
    assert.equal(
      h.emulator.calls().byTokenAndRoute['files/list_folder']?.[folder.token],
      1,
      'one listing from the start',
    );
    const calls = h.emulator.calls().byToken[folder.token] ?? 0;
    const check = await folder.checkRecorded();
    assert.equal(check.filesInFolder, FILES);
    assert.equal(check.deletedRecords, 0);
    // Its copy of contents would go on beside the next case's sync: that case is about Temporal.
    await folder.handle.terminate('the FerretDB case is over');
    t.diagnostic(
      `FerretDB stopped at ${before} of ${FILES} records, down ${outage} s; Dropbox calls: ${calls}; ` +
        `files checked: ${check.filesInFolder}; ${secondsSince(started)} s`,
    );
  });

  it('goes on with the same workflow and completes the sync, listing once from the start, when the Temporal dev server is stopped for 30 s mid-sync', async (t) => {
    const started = Date.now();
    const path = '/Projects/Substation';
    const folder = await mapSlowly(h, path);
    const { runId } = await folder.handle.describe();
    const { before, outage } = await outageMidSync(h, folder, h.temporalServer);

    assert.ok(h.worker.running(), 'the worker went down with the Temporal server');
    assert.equal(h.worker.starts(), 1);
    const description = await folder.handle.describe();
    assert.equal(description.status.name, 'RUNNING');
    const status = await folder.status();
    // The same execution went on: it was not started again, nor did it list from scratch twice.
    assert.ok(
      description.runId === runId || status.runs > 0,
      `a new run ${description.runId} without continue-as-new`,
    );
    assert.equal(
      h.emulator.calls().byTokenAndRoute['files/list_folder']?.[folder.token],
      1,
      'one listing from the start',
    );
    // A page whose completion the outage swallowed is written again and counts as unchanged then.
    assert.ok(status.counters.filesAdded <= FILES, `${status.counters.filesAdded} files added`);
    const calls = h.emulator.calls().byToken[folder.token] ?? 0;
    const check = await folder.checkRecorded();
    assert.equal(check.filesInFolder, FILES);
    assert.equal(check.deletedRecords, 0);
    t.diagnostic(
      `Temporal dev server stopped at ${before} of ${FILES} records, down ${outage} s; Dropbox calls: ${calls}; ` +
        `files checked: ${check.filesInFolder}; ${secondsSince(started)} s`,
    );
  });
});
