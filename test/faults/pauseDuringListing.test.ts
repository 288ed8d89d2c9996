/**
 * A long listing on the real stack (dev server, FerretDB, the emulator, the worker process): the
 * workflow answers between the listing's activities, so a status query and a pause are answered
 * within a second, a pause stops the listing, and resume lists on from the saved cursor.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type FaultHarness, secondsSince, startFaultHarness, waitUntil } from './support/faultHarness';

const FILES = 8_000;
const PAGE_LIMIT = 500;
/** Slow Dropbox, so the listing lasts long enough to be asked and paused mid-way. */
const DROPBOX_LATENCY_MS = 300;

describe('a pause during a long listing', () => {
  let h: FaultHarness;
  before(async () => {
    h = await startFaultHarness({ pollIntervalMs: 5 * 60_000, pageLimit: PAGE_LIMIT });
    await h.worker.start();
  });
  after(() => h?.close());

  it('answers status within a second, stops listing once paused, and resumes from the saved cursor', async (t) => {
    const started = Date.now();
    const path = '/Projects/Tunnel';
    h.emulator.setFaults({ latencyMs: DROPBOX_LATENCY_MS });
    const folder = await h.mapFolder(path, (accountId) => h.emulator.bulkAddFiles(accountId, path, FILES));
    await waitUntil(async () => (await folder.liveCount()) >= 2 * PAGE_LIMIT, 120_000, 'the listing to get going', 100);

    const answers: number[] = [];
    for (let i = 0; i < 10; i += 1) {
      const asked = Date.now();
      const status = await folder.status();
      answers.push(Date.now() - asked);
      assert.equal(status.phase, 'syncing');
    }
    const slowest = Math.max(...answers);
    assert.ok(slowest < 1_000, `status answered in ${answers.join(', ')} ms during the listing`);

    const pausedAt = Date.now();
    await folder.signal('pause');
    await waitUntil(async () => (await folder.status()).state === 'paused', 10_000, 'the pause', 50);
    const pauseTook = Date.now() - pausedAt;
    assert.ok(pauseTook < 1_000, `paused after ${pauseTook} ms`);
    const listed = () => h.emulator.calls().byToken[folder.token] ?? 0;
    const callsAtPause = listed();
    const recordedAtPause = await folder.liveCount();
    await new Promise((done) => setTimeout(done, 3_000));
    // The page being listed when the pause came may still end; nothing is listed after it.
    assert.ok(listed() <= callsAtPause + 1, `${listed() - callsAtPause} Dropbox calls after the pause`);
    assert.ok(recordedAtPause < FILES, `the listing had ended (${recordedAtPause} records) before the pause`);

    h.emulator.clearFaults();
    await folder.signal('resume');
    await folder.waitForCycles(1, 240_000);
    const routes = h.emulator.calls().byTokenAndRoute;
    assert.equal(routes['files/list_folder']?.[folder.token], 1, 'one listing from the start: resume went on from the cursor');
    const check = await folder.checkRecorded();
    assert.equal(check.filesInFolder, FILES);
    assert.equal(check.deletedRecords, 0);
    t.diagnostic(
      `status answered in ≤ ${slowest} ms (${answers.join(', ')}); paused in ${pauseTook} ms at ${recordedAtPause} of ` +
        `${FILES} records; ${secondsSince(started)} s`,
    );
  });
});
