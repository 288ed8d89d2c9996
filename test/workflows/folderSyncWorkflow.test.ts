/**
 * folderSyncWorkflow with the real activities, FerretDB and the Dropbox emulator, on the
 * time-skipping test server: five minutes of polling pass in milliseconds. The workflow's logic
 * alone, over fake activities, is in folderSyncLogic.test.ts.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, afterEach, before, describe, it } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { pairWorkers, type SyncWorker } from '../../src/worker';
import { workflowBundleOptions } from '../../src/workflowBundle';
import { createSyncWorkflows, type SyncWorkflows } from '../../src/api/syncWorkflows';
import { createActivities } from '../../src/activities';
import { collections } from '../../src/db/collections';
import { cycleReportSinks } from '../../src/cycleReportSinks';
import type { Mapping } from '../../src/domain/types';
import { silentLogger } from '../../src/log';
import { folderSyncWorkflowId, statusQuery, SyncStateKey, type FolderSyncStatus } from '../../src/workflows/definitions';
import { eventually } from '../support/eventually';
import { untilSettled, whenSettled, whenWaitingOnTimer } from '../support/timerWait';
import { installQuietRuntime, quietBundlerLogger } from '../support/quietRuntime';
import { createTimeSkippingEnv, TIME_SKIPPING_TEST } from '../support/servers';
import { FOLDER, openSyncFixture, type SyncFixture } from '../support/syncFixture';

const MINUTE = 60_000;
const POLL = 5 * MINUTE;

installQuietRuntime();

describe('folderSyncWorkflow over real activities (time-skipping server, FerretDB, emulator)', () => {
  let env: TestWorkflowEnvironment;
  let fx: SyncFixture;
  let bundle: WorkflowBundleWithSourceMap;
  let worker: SyncWorker;
  let running: Promise<void>;
  let workflows: SyncWorkflows;
  const taskQueue = `folder-sync-test-${randomBytes(3).toString('hex')}`;

  before(async () => {
    [env, fx, bundle] = await Promise.all([
      createTimeSkippingEnv(),
      openSyncFixture('workflow', { pageLimit: 50 }),
      bundleWorkflowCode({ ...workflowBundleOptions(), logger: quietBundlerLogger }),
    ]);
    worker = await pairWorkers(
      {
        connection: env.nativeConnection,
        taskQueue,
        workflowBundle: bundle,
        activities: createActivities(fx.deps),
        sinks: cycleReportSinks(silentLogger),
      },
      2,
    );
    running = worker.run();
    workflows = createSyncWorkflows({ client: env.client, taskQueue, pollIntervalMs: POLL, log: silentLogger });
  });
  // A test's last contents copy, cancelled by its unmap, runs until a heartbeat tells it so; the
  // time-skipping server skips no time while an activity runs, so the next test would wait.
  afterEach(async () => {
    await eventually(async () => assert.equal(worker.contents.getStatus().numInFlightActivities, 0), 30_000);
  });
  after(async () => {
    worker?.shutdown();
    await running;
    await env?.teardown();
    await fx?.close();
  });

  async function mapFolder(name: string, files = 0): Promise<{ mapping: Mapping; handle: WorkflowHandle }> {
    const path = `${FOLDER}/${name}`;
    fx.emulator.addFolder(fx.accountId, path);
    if (files > 0) fx.emulator.bulkAddFiles(fx.accountId, path, files, { prefix: `${name}-` });
    const mapping = await fx.newMapping(path);
    await workflows.start(mapping);
    return { mapping, handle: env.client.workflow.getHandle(folderSyncWorkflowId(mapping._id)) };
  }

  // A mapping's id sets its stagger, so any run here may continue as new after its first cycle.
  const status = (handle: WorkflowHandle): Promise<FolderSyncStatus> =>
    whenSettled(handle, () => handle.query(statusQuery));
  const liveNames = async (mapping: Mapping) =>
    (await fx.repos.files.listAllLive(mapping._id)).map((f) => f.name).sort();

  async function waitForCycles(handle: WorkflowHandle, cycles: number): Promise<FolderSyncStatus> {
    let last: FolderSyncStatus | undefined;
    await eventually(async () => {
      last = await whenWaitingOnTimer(handle, () => handle.query(statusQuery));
      assert.ok(last.counters.cycles >= cycles && last.phase === 'waiting', JSON.stringify(last));
    });
    return last!;
  }

  it('records the folder at once, and a file added later after five minutes, not before', TIME_SKIPPING_TEST, async () => {
    const { mapping, handle } = await mapFolder('Poll', 3);
    await waitForCycles(handle, 1);
    assert.equal((await liveNames(mapping)).length, 3);

    fx.emulator.addFile(fx.accountId, `${FOLDER}/Poll/Late addition.pdf`);
    await env.sleep(POLL - MINUTE);
    assert.ok(!(await liveNames(mapping)).includes('Late addition.pdf'), 'not before the interval ends');

    await env.sleep(MINUTE + 5_000);
    await eventually(async () => assert.ok((await liveNames(mapping)).includes('Late addition.pdf')));
    const desc = await handle.describe();
    assert.deepEqual(desc.typedSearchAttributes.get(SyncStateKey), 'active');
    await untilSettled(handle);
    await handle.signal('unmap');
    await handle.result();
  });

  it('stops cycles while paused and catches up on resume; syncNow syncs at once', TIME_SKIPPING_TEST, async () => {
    const { mapping, handle } = await mapFolder('Paused', 1);
    await waitForCycles(handle, 1);
    await workflows.signal(mapping, 'pause');
    await eventually(async () => assert.equal((await status(handle)).state, 'paused'));
    fx.emulator.addFile(fx.accountId, `${FOLDER}/Paused/While paused.pdf`);
    await env.sleep(3 * POLL);
    assert.ok(!(await liveNames(mapping)).includes('While paused.pdf'));
    assert.equal((await status(handle)).counters.cycles, 1, 'no cycle ran while paused');
    const stored = await fx.repos.mappings.getById(mapping._id);
    assert.equal(stored?.state, 'paused', 'MongoDB shows the pause for when the worker is down');

    await workflows.signal(mapping, 'resume');
    await eventually(async () => assert.ok((await liveNames(mapping)).includes('While paused.pdf')));

    fx.emulator.addFile(fx.accountId, `${FOLDER}/Paused/Urgent.pdf`);
    await workflows.signal(mapping, 'syncNow');
    await eventually(async () => assert.ok((await liveNames(mapping)).includes('Urgent.pdf')));
    await untilSettled(handle);
    await workflows.signal(mapping, 'unmap');
    const result = await handle.result();
    assert.equal(result.state, 'unmapped');
    assert.equal((await fx.repos.mappings.getById(mapping._id))?.state, 'unmapped');
  });

  it('waits in needs_credentials after a token expires, one Dropbox call per interval, and recovers with a new token', TIME_SKIPPING_TEST, async () => {
    const token = fx.emulator.issueToken(fx.accountId);
    await fx.replaceToken(token);
    const { mapping, handle } = await mapFolder('Credentials', 2);
    await waitForCycles(handle, 1);

    fx.emulator.expireToken(token);
    fx.emulator.addFile(fx.accountId, `${FOLDER}/Credentials/Arrived meanwhile.pdf`);
    await env.sleep(POLL + 5_000);
    await eventually(async () => assert.equal((await status(handle)).state, 'needs_credentials'));
    assert.equal((await fx.repos.mappings.getById(mapping._id))?.state, 'needs_credentials');
    assert.equal((await handle.describe()).typedSearchAttributes.get(SyncStateKey), 'needs_credentials');

    fx.emulator.resetCalls();
    for (let i = 0; i < 3; i += 1) {
      await env.sleep(POLL);
      await eventually(async () => assert.equal((await status(handle)).phase, 'waiting'));
    }
    const calls = fx.emulator.calls().byToken[token] ?? 0;
    assert.ok(
      calls >= 1 && calls <= 3,
      `one call per interval while waiting, got ${calls} over 3 intervals: ${JSON.stringify(fx.emulator.calls().byRoute)}`,
    );
    assert.equal(fx.emulator.calls().byRoute['files/list_folder/continue'] ?? 0, 0, 'no listing with a dead token');

    await fx.replaceToken(fx.token);
    await workflows.signal(mapping, 'credentialsUpdated');
    await eventually(async () => {
      assert.equal((await status(handle)).state, 'active');
      assert.ok((await liveNames(mapping)).includes('Arrived meanwhile.pdf'));
    });
    assert.equal((await liveNames(mapping)).length, 3);
    await untilSettled(handle);
    await handle.signal('unmap');
    await handle.result();
  });

  it('continues as new while listing a large folder, keeps its cursor and makes no duplicates', TIME_SKIPPING_TEST, async () => {
    const path = `${FOLDER}/Large`;
    fx.emulator.addFolder(fx.accountId, path);
    fx.emulator.bulkAddFiles(fx.accountId, path, 600, { prefix: 'sheet-' });
    // This test is about the listing: a token without files.content.read keeps the 600 files'
    // contents copy to one refused download (the mapping is marked as missing the scope).
    await fx.replaceToken(fx.emulator.issueToken(fx.accountId, { scopes: ['account_info.read', 'files.metadata.read'] }));
    const mapping = await fx.newMapping(path);
    fx.emulator.resetCalls();
    // The listing's history grows when its task heartbeats: every 0.8 s with a 1 s task timeout,
    // through a listing that slow Dropbox calls stretch over seconds.
    fx.emulator.setFaults({ latencyMs: 200 });
    const handle = await env.client.workflow.start('folderSyncWorkflow', {
      taskQueue,
      workflowId: folderSyncWorkflowId(mapping._id),
      workflowTaskTimeout: '1 second',
      args: [{ mappingId: mapping._id, projectId: mapping.projectId, dropboxPath: path, pollIntervalMs: POLL, continueAsNewAfterEvents: 30 }],
    });
    await eventually(async () => assert.equal((await liveNames(mapping)).length, 600), 60_000).finally(() =>
      fx.emulator.setFaults({ latencyMs: 0 }),
    );
    const first = await waitForCycles(handle, 1);
    assert.ok(first.runs >= 2, `expected several runs, got ${first.runs}`);
    assert.equal(first.counters.filesAdded, 600);
    assert.equal(fx.emulator.calls().byRoute['files/list_folder'], 1, 'the cursor crossed every run: one listing from the start');

    fx.emulator.addFile(fx.accountId, `${path}/sheet-new.pdf`);
    await handle.signal('syncNow');
    await waitForCycles(handle, 2);
    const { files } = collections(fx.testDb.db);
    assert.equal(await files.countDocuments({ mappingId: mapping._id }), 601);
    assert.equal(fx.emulator.calls().byRoute['files/list_folder'], 1);
    // The new file's copy runs beside the cycles: it may end after the cycle that recorded the file.
    await eventually(async () => {
      assert.equal((await fx.repos.mappings.getById(mapping._id))?.contentScopeMissing, true);
      assert.equal((await fx.repos.contents.counts(mapping._id)).pending, 601, 'contents wait for the content scope');
    });
    await untilSettled(handle);
    await handle.signal('unmap');
    const result = await handle.result();
    assert.equal(result.counters.filesAdded, 601);
    await fx.replaceToken(fx.token);
  });

  it('continues as new after the cycles per run the API starts it with (CYCLES_PER_RUN), its first run staggered', TIME_SKIPPING_TEST, async () => {
    const shortRuns = createSyncWorkflows({ client: env.client, taskQueue, pollIntervalMs: POLL, cyclesPerRun: 3, log: silentLogger });
    const path = `${FOLDER}/ShortRuns`;
    fx.emulator.addFolder(fx.accountId, path);
    // A mapping whose stagger ends its first run one cycle early.
    const mapping = await fx.newMapping(path, { cyclesPerRun: 3, shortening: 1 });
    await shortRuns.start(mapping);
    const handle = env.client.workflow.getHandle(folderSyncWorkflowId(mapping._id));
    assert.equal((await waitForCycles(handle, 1)).runs, 0);
    const firstRunId = (await handle.describe()).runId;
    await env.sleep(POLL + 5_000);
    const second = await waitForCycles(handle, 2);
    assert.equal(second.runs, 1, 'a new run after two cycles, one early');
    assert.notEqual((await handle.describe()).runId, firstRunId);
    // The new run keeps the setting it was started with, and ends after all three of its cycles.
    await env.sleep(2 * POLL + 5_000);
    assert.equal((await waitForCycles(handle, 4)).runs, 1);
    await env.sleep(POLL + 5_000);
    assert.equal((await waitForCycles(handle, 5)).runs, 2);
    await untilSettled(handle);
    await handle.signal('unmap');
    await handle.result();
  });

  it('shows every file deleted once the mapped folder is gone, fails naming it, and lists the folder whole when it is back', TIME_SKIPPING_TEST, async () => {
    const path = `${FOLDER}/Gone`;
    const { mapping, handle } = await mapFolder('Gone', 3);
    fx.emulator.addFile(fx.accountId, `${path}/plan #1.pdf`);
    await waitForCycles(handle, 1);
    assert.equal((await liveNames(mapping)).length, 3);
    const rejections = () => collections(fx.testDb.db).rejections.countDocuments({ mappingId: mapping._id });
    assert.equal(await rejections(), 1);

    const gone = async () => {
      await handle.signal('syncNow');
      await eventually(async () => {
        const shown = await status(handle);
        assert.equal(shown.state, 'failed', JSON.stringify(shown));
        assert.match(shown.lastError ?? '', /no folder at "\/[^"]*\/Gone"/u);
      });
      assert.deepEqual(await liveNames(mapping), []);
    };
    // Deleted (or moved, or renamed) in Dropbox: its files went with it, as a deleted folder's
    // entry means. Here Dropbox also forgot the cursor, so the folder's absence shows only once
    // it is listed from the start.
    fx.emulator.forceCursorReset(fx.accountId, path);
    fx.emulator.remove(fx.accountId, path);
    await gone();
    assert.equal(await collections(fx.testDb.db).files.countDocuments({ mappingId: mapping._id }), 3, 'records kept, marked deleted');
    assert.equal(await rejections(), 0);

    // Back (restored, or another folder at its path): listed from the start.
    fx.emulator.addFolder(fx.accountId, path);
    fx.emulator.addFile(fx.accountId, `${path}/Returned.pdf`);
    await handle.signal('syncNow');
    await eventually(async () => {
      const shown = await status(handle);
      assert.equal(shown.state, 'active', JSON.stringify(shown));
      assert.deepEqual(await liveNames(mapping), ['Returned.pdf']);
    });

    // And gone again: swept again.
    fx.emulator.remove(fx.accountId, path);
    await gone();
    await untilSettled(handle);
    await handle.signal('unmap');
    await handle.result();
  });

  it('relists the whole folder without duplicates when Dropbox resets the cursor, dropping files deleted meanwhile', TIME_SKIPPING_TEST, async () => {
    const { mapping, handle } = await mapFolder('Reset', 5);
    await waitForCycles(handle, 1);
    const victim = (await liveNames(mapping))[0]!;
    fx.emulator.forceCursorReset(fx.accountId, `${FOLDER}/Reset`);
    fx.emulator.remove(fx.accountId, `${FOLDER}/Reset/${victim}`);
    await handle.signal('syncNow');
    await waitForCycles(handle, 2);
    const live = await liveNames(mapping);
    assert.equal(live.length, 4);
    assert.ok(!live.includes(victim));
    assert.equal(await collections(fx.testDb.db).files.countDocuments({ mappingId: mapping._id }), 5);
    await untilSettled(handle);
    await handle.signal('unmap');
    await handle.result();
  });
});
