/**
 * The worker process SIGKILLed three times during the initial sync of a 20,000-file folder: no
 * shutdown, activities and workflow tasks cut off mid-way. Once a worker runs again the sync
 * ends with the exact check: every file recorded exactly once with its newest rev.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type FaultHarness, secondsSince, startFaultHarness, waitUntil } from './support/faultHarness';

const POLL_INTERVAL_MS = 5 * 60_000;

describe('worker SIGKILLed during a sync', () => {
  let h: FaultHarness;
  before(async () => {
    h = await startFaultHarness({ pollIntervalMs: POLL_INTERVAL_MS });
  });
  after(() => h?.close());

  it('records all 20,000 files exactly once after the worker is SIGKILLed three times during the initial sync', async (t) => {
    const FILES = 20_000;
    const started = Date.now();
    await h.worker.start();
    const folder = await h.mapFolder('/Projects/Hospital wing', (accountId) =>
      h.emulator.bulkAddFiles(accountId, '/Projects/Hospital wing', FILES, {
        prefix: 'scan-',
        extension: '.tif',
      }),
    );
    // Each Dropbox call takes 1.5 s, so that the sync spans the kills: otherwise a restarted
    // worker can record the rest of the folder before the next kill lands.
    h.emulator.setFaults({ latencyMs: 1_500 });
    const killedAt: number[] = [];
    let seen = 0;
    for (let kill = 1; kill <= 3; kill += 1) {
      // Kill once this worker has recorded something, a moment later, so the kill lands mid-page.
      await waitUntil(
        async () => (await folder.liveCount()) > seen,
        240_000,
        `progress before kill ${kill}`,
        100,
      );
      await new Promise((done) => setTimeout(done, Math.floor(Math.random() * 500)));
      await h.worker.kill();
      seen = await folder.liveCount();
      killedAt.push(seen);
      t.diagnostic(`kill ${kill} at ${seen} records, ${secondsSince(started)} s`);
      assert.ok(seen < FILES, `kill ${kill} came after the sync had ended`);
      await h.worker.start();
    }
    h.emulator.clearFaults();
    await folder.waitForCycles(1, 300_000);
    const calls = h.emulator.calls();
    const check = await folder.checkRecorded();
    assert.equal(check.filesInFolder, FILES);
    assert.equal(check.deletedRecords, 0);
    t.diagnostic(
      `worker SIGKILLed 3 times (at ${killedAt.join(', ')} of ${FILES} records); ` +
        `Dropbox calls: ${calls.total} ${JSON.stringify(calls.byRoute)}; files checked: ${check.filesInFolder}; ` +
        `${secondsSince(started)} s`,
    );
  });
});
