/**
 * A rollout by Worker Deployment Versioning on the dev server: workers of build A run mappings;
 * workers of build B, whose workflow A's histories would not replay on, start and become current;
 * each running mapping (a paused one too) moves to B when it next continues as new, without a
 * nondeterminism error or a lost cycle; then A's worker stops and B carries on alone.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { WorkflowHandle, WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import type { WorkerDeploymentVersion } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { bundleWorkflowCode, NativeConnection, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { pairWorkers, type SyncWorker } from '../../src/worker';
import { createActivities } from '../../src/activities';
import { cycleReportSinks } from '../../src/cycleReportSinks';
import { workflowBundleOptions } from '../../src/workflowBundle';
import { currentBuildId, makeVersionCurrent, makeVersionCurrentIfNone, workerDeploymentOptions } from '../../src/workerDeployment';
import { folderSyncWorkflowId, pauseSignal, statusQuery, unmapSignal } from '../../src/workflows/definitions';
import { connectDevServer, type DevServerClient } from '../support/servers';
import { requireEnv } from '../support/testEnv';
import { FOLDER, openSyncFixture, type SyncFixture } from '../support/syncFixture';
import { installQuietRuntime, quietBundlerLogger } from '../support/quietRuntime';

const { EventType } = temporal.api.enums.v1;
const POLL_MS = 1_500;

installQuietRuntime();

/** B's run answers queries once its first timer has fired: until then a check fails and is tried again. */
async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 200));
  }
}

describe('rolling out a changed workflow by worker deployment versioning', () => {
  let fx: SyncFixture;
  let dev: DevServerClient;
  let native: NativeConnection;
  let bundles: { a: WorkflowBundleWithSourceMap; b: WorkflowBundleWithSourceMap };
  const workers: { worker: SyncWorker; running: Promise<void> }[] = [];
  const handles: WorkflowHandleWithFirstExecutionRunId[] = [];

  before(async () => {
    fx = await openSyncFixture('versioning');
    dev = await connectDevServer();
    native = await NativeConnection.connect({ address: requireEnv('TEMPORAL_ADDRESS') });
    bundles = {
      a: await bundleWorkflowCode({ ...workflowBundleOptions(), logger: quietBundlerLogger }),
      b: await bundleWorkflowCode({ workflowsPath: require.resolve('./versioning/changedWorkflow'), logger: quietBundlerLogger }),
    };
  });
  after(async () => {
    for (const handle of handles) await handle.terminate().catch(() => undefined);
    for (const { worker, running } of workers) {
      worker.shutdown();
      await running.catch(() => undefined);
    }
    await native?.close();
    await dev?.close();
    await fx?.close();
  });

  it('moves each running mapping to the new current build at its next continue-as-new, with no nondeterminism and no lost cycle, so the old build can be stopped', async (t) => {
    const deploymentName = `versioning-${randomBytes(4).toString('hex')}`;
    const taskQueue = `${deploymentName}-queue`;
    const buildA: WorkerDeploymentVersion = { deploymentName, buildId: '0.1.0-a' };
    const buildB: WorkerDeploymentVersion = { deploymentName, buildId: '0.1.0-b' };
    const startWorker = async (version: WorkerDeploymentVersion, workflowBundle: WorkflowBundleWithSourceMap) => {
      const worker = await pairWorkers(
        {
          connection: native,
          taskQueue,
          workflowBundle,
          activities: createActivities(fx.deps),
          sinks: cycleReportSinks(fx.deps.log),
          workerDeploymentOptions: workerDeploymentOptions(version),
          shutdownGraceTime: '1s',
        },
        2,
      );
      const running = worker.run();
      running.catch(() => undefined);
      const entry = { worker, running };
      workers.push(entry);
      // As `npm run dev` does on a Temporal it does not own: a version becomes current only
      // where none is; another current version stays (and is named).
      const claimed = await makeVersionCurrentIfNone(native.workflowService, dev.namespace, version);
      const before = await currentBuildId(native.workflowService, dev.namespace, deploymentName);
      if (version === buildA) assert.deepEqual([claimed, before], [{ made: true }, buildA.buildId]);
      else assert.deepEqual([claimed, before], [{ made: false, current: buildA.buildId }, buildA.buildId]);
      await makeVersionCurrent(native.workflowService, dev.namespace, version);
      assert.equal(await currentBuildId(native.workflowService, dev.namespace, deploymentName), version.buildId);
      return entry;
    };
    const buildOf = async (handle: WorkflowHandle) =>
      (await handle.describe()).raw.workflowExecutionInfo?.versioningInfo?.deploymentVersion?.buildId;
    const cycles = async (handle: WorkflowHandle) => (await handle.query(statusQuery)).counters.cycles;

    const a = await startWorker(buildA, bundles.a);
    for (let i = 0; i < 3; i += 1) {
      const path = `${FOLDER}/Rollout ${i}`;
      fx.emulator.addFolder(fx.accountId, path);
      fx.emulator.addFile(fx.accountId, `${path}/Plan ${i}.pdf`);
      const mapping = await fx.newMapping(path);
      handles.push(
        await dev.client.workflow.start('folderSyncWorkflow', {
          taskQueue,
          workflowId: folderSyncWorkflowId(mapping._id),
          args: [{ mappingId: mapping._id, projectId: mapping.projectId, dropboxPath: path, pollIntervalMs: POLL_MS }],
        }),
      );
    }
    for (const handle of handles) await waitFor('two cycles on build A', async () => (await cycles(handle)) >= 2);
    for (const handle of handles) assert.equal(await buildOf(handle), buildA.buildId);
    const paused = handles[2]!;
    await paused.signal(pauseSignal);
    await waitFor('the pause', async () => (await paused.query(statusQuery)).state === 'paused');

    await startWorker(buildB, bundles.b);
    const movedAt = Date.now();
    for (const handle of handles) await waitFor('the move to build B', async () => (await buildOf(handle)) === buildB.buildId);
    const moveTook = Date.now() - movedAt;

    // A has nothing left to run: it stops, and B carries every mapping on.
    a.worker.shutdown();
    await a.running;
    const active = handles.slice(0, 2);
    for (const handle of active) {
      let moved: number | undefined;
      await waitFor('two cycles on build B alone', async () => (await cycles(handle)) >= (moved ??= await cycles(handle)) + 2);
    }
    await waitFor('the paused mapping on B, still paused', async () => (await paused.query(statusQuery)).state === 'paused');

    for (const handle of handles) {
      const runs = await runsOf(handle);
      const events = runs.flatMap((r) => r.events);
      assert.ok(!events.some((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED), 'no workflow task failed');
      const byBuild = new Set(runs.map((r) => r.buildId));
      assert.deepEqual([...byBuild].sort(), [buildA.buildId, buildB.buildId], 'runs on A, then on B');
      assert.ok(runs.filter((r) => r.buildId === buildB.buildId).every((r) => r.firstCommandIsTimer), 'B\'s runs ran B\'s code');
      // No lost cycle: each cycle listed once, and every listing is counted in the carried counters.
      const listings = events.filter(
        (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'listFolder',
      );
      const status = await handle.query(statusQuery);
      assert.equal(listings.length, status.counters.cycles, 'one listing a cycle, all of them counted');
      if (handle === paused) continue;
      const times = listings.map((e) => Number(e.eventTime!.seconds) * 1000 + Math.floor((e.eventTime!.nanos ?? 0) / 1e6));
      const gaps = times.slice(1).map((time, i) => time - times[i]!);
      assert.ok(Math.max(...gaps) < POLL_MS + 5_000, `a cycle went missing across the move: gaps ${gaps.join(', ')} ms`);
    }
    for (const handle of handles) await handle.signal(unmapSignal);
    for (const handle of handles) await handle.result();
    t.diagnostic(`every mapping on build B ${moveTook} ms after it became current`);
  });

  /** Every run of the workflow, first to latest, with the build that ran it. */
  async function runsOf(handle: WorkflowHandleWithFirstExecutionRunId) {
    const runs: { buildId: string | undefined; events: temporal.api.history.v1.IHistoryEvent[]; firstCommandIsTimer: boolean }[] = [];
    let runId: string | undefined = handle.firstExecutionRunId;
    while (runId) {
      const run: WorkflowHandle = dev.client.workflow.getHandle(handle.workflowId, runId);
      const events: temporal.api.history.v1.IHistoryEvent[] = (await run.fetchHistory()).events ?? [];
      const completed = events.find((e) => e.workflowTaskCompletedEventAttributes)?.workflowTaskCompletedEventAttributes;
      const firstCommand = events.find((e) => Number(e.eventId) > 4 && !e.workflowExecutionSignaledEventAttributes);
      runs.push({
        buildId: completed?.deploymentVersion?.buildId ?? undefined,
        events,
        firstCommandIsTimer: firstCommand?.eventType === EventType.EVENT_TYPE_TIMER_STARTED,
      });
      runId = events.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
    }
    return runs;
  }
});
