/**
 * `npm run record-histories`: runs folderSyncWorkflow for real (Temporal dev server, FerretDB,
 * the Dropbox emulator, the product's worker and activities), through the scenarios a change to
 * the workflow must keep replaying, and writes each run's history to test/workflows/histories/.
 * Commit them: the replay test fails on any change that would break executions in flight.
 * TEMPORAL_ADDRESS and MONGODB_URI name servers to use instead of starting them.
 */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { createActivities } from '../src/activities';
import { createSyncWorkflows, type SyncWorkflows } from '../src/api/syncWorkflows';
import { removeQuietly } from '../src/dev/atomicInstall';
import { runCommandOrThrow } from '../src/dev/runCommand';
import { startFerretDb, startTemporalDevServer } from '../src/dev/servers';
import { defaultCacheDir, installTools } from '../src/dev/tools';
import type { Mapping } from '../src/domain/types';
import { cycleReportSinks } from '../src/cycleReportSinks';
import { silentLogger } from '../src/log';
import { pairWorkers, workflowSource } from '../src/worker';
import { makeVersionCurrent, workerDeploymentOptions } from '../src/workerDeployment';
import { DEFAULT_CYCLES_PER_RUN } from '../src/workflows/folderSyncWorkflow';
import { folderSyncWorkflowId, statusQuery, type FolderSyncStatus } from '../src/workflows/definitions';
import { installQuietRuntime } from '../test/support/quietRuntime';
import { FOLDER, openSyncFixture, type SyncFixture } from '../test/support/syncFixture';

const OUT_DIR = resolve(__dirname, '..', 'test', 'workflows', 'histories');
const POLL_MS = 1_500;
const log = (line: string) => console.log(`[record] ${line}`);

interface Scenario {
  name: string;
  run(ctx: Context): Promise<WorkflowHandle>;
}

interface Context {
  fx: SyncFixture;
  client: Client;
  workflows: SyncWorkflows;
  taskQueue: string;
}

async function until(
  handle: WorkflowHandle,
  what: string,
  test: (s: FolderSyncStatus) => boolean,
): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const status = await handle.query(statusQuery);
    if (test(status)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(status)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function mapFolder(
  ctx: Context,
  name: string,
  files: number,
): Promise<{ mapping: Mapping; handle: WorkflowHandle }> {
  const path = `${FOLDER}/${name}`;
  ctx.fx.emulator.addFolder(ctx.fx.accountId, path);
  if (files > 0) ctx.fx.emulator.bulkAddFiles(ctx.fx.accountId, path, files, { prefix: 'sheet-' });
  // Not staggered: the scenarios' runs end where they say, whatever the random mapping id.
  const mapping = await ctx.fx.newMapping(path, { cyclesPerRun: DEFAULT_CYCLES_PER_RUN, shortening: 0 });
  await ctx.workflows.start(mapping);
  return { mapping, handle: ctx.client.workflow.getHandle(folderSyncWorkflowId(mapping._id)) };
}

const cycles = (n: number) => (s: FolderSyncStatus) => s.counters.cycles >= n && s.phase === 'waiting';

const scenarios: Scenario[] = [
  {
    // Timers firing, every signal but credentialsUpdated, rejections, a subfolder, changes between cycles.
    name: 'poll-pause-resume-sync-unmap',
    async run(ctx) {
      const { fx } = ctx;
      const { mapping, handle } = await mapFolder(ctx, 'Lifecycle', 4);
      const path = mapping.dropboxPath;
      fx.emulator.addFile(fx.accountId, `${path}/plan#2?.pdf`);
      fx.emulator.addFile(fx.accountId, `${path}/Photos/IMG_0001.jpg`);
      await until(handle, 'the first cycle', cycles(1));
      fx.emulator.addFile(fx.accountId, `${path}/Added later.pdf`);
      await until(handle, 'a timer-driven cycle', cycles(2));
      await ctx.workflows.signal(mapping, 'pause');
      await until(handle, 'the pause', (s) => s.state === 'paused');
      await ctx.workflows.signal(mapping, 'resume');
      await until(handle, 'the cycle after resume', cycles(3));
      fx.emulator.modifyFile(fx.accountId, `${path}/Added later.pdf`, { size: 99 });
      fx.emulator.move(fx.accountId, `${path}/plan#2?.pdf`, `${path}/plan 2.pdf`);
      await ctx.workflows.signal(mapping, 'syncNow');
      await until(handle, 'the requested cycle', cycles(4));
      await ctx.workflows.signal(mapping, 'unmap');
      await handle.result();
      return handle;
    },
  },
  {
    name: 'needs-credentials-then-recovery',
    async run(ctx) {
      const { fx } = ctx;
      const token = fx.emulator.issueToken(fx.accountId);
      await fx.replaceToken(token);
      const { mapping, handle } = await mapFolder(ctx, 'Credentials', 2);
      await until(handle, 'the first cycle', cycles(1));
      fx.emulator.expireToken(token);
      await until(
        handle,
        'needs_credentials',
        (s) => s.state === 'needs_credentials' && s.phase === 'waiting',
      );
      await until(
        handle,
        'a retry on the timer',
        (s) => s.state === 'needs_credentials' && s.nextSyncAt !== null,
      );
      await new Promise((r) => setTimeout(r, POLL_MS * 2));
      await fx.replaceToken(fx.token);
      await ctx.workflows.signal(mapping, 'credentialsUpdated');
      await until(
        handle,
        'recovery',
        (s) => s.state === 'active' && s.lastError === null && s.phase === 'waiting',
      );
      await ctx.workflows.signal(mapping, 'unmap');
      await handle.result();
      return handle;
    },
  },
  {
    name: 'cursor-reset-relisting',
    async run(ctx) {
      const { fx } = ctx;
      const { mapping, handle } = await mapFolder(ctx, 'Reset', 5);
      await until(handle, 'the first cycle', cycles(1));
      fx.emulator.forceCursorReset(fx.accountId, mapping.dropboxPath);
      await ctx.workflows.signal(mapping, 'syncNow');
      await until(handle, 'the relisting', cycles(2));
      await ctx.workflows.signal(mapping, 'unmap');
      await handle.result();
      return handle;
    },
  },
];

/**
 * Maps a new folder of `files` files and starts its workflow directly, with inputs the API does not
 * set; returns the handle of the first run and one that follows the latest.
 */
async function startWithInput(
  ctx: Context,
  name: string,
  files: number,
  extra: Record<string, number>,
  shortening = 0,
) {
  const { fx } = ctx;
  const path = `${FOLDER}/${name}`;
  fx.emulator.addFolder(fx.accountId, path);
  fx.emulator.bulkAddFiles(fx.accountId, path, files, { prefix: 'sheet-' });
  const cyclesPerRun = extra.cyclesPerRun ?? DEFAULT_CYCLES_PER_RUN;
  const mapping = await fx.newMapping(path, { cyclesPerRun, shortening });
  const first = await ctx.client.workflow.start('folderSyncWorkflow', {
    taskQueue: ctx.taskQueue,
    workflowId: folderSyncWorkflowId(mapping._id),
    args: [{ mappingId: mapping._id, projectId: mapping.projectId, dropboxPath: path, pollIntervalMs: POLL_MS, ...extra }],
  });
  return { mapping, path, first, latest: ctx.client.workflow.getHandle(first.workflowId) };
}

/** The first run of a workflow that continued as new mid-listing, and the run that finished it. */
async function recordContinueAsNew(ctx: Context): Promise<Record<string, WorkflowHandle>> {
  ctx.fx.emulator.setFaults({ latencyMs: 250 });
  const { mapping, first, latest } = await startWithInput(ctx, 'Large', 300, { continueAsNewAfterEvents: 30 });
  await until(latest, 'the listing across runs', (s) => s.runs >= 2 && cycles(1)(s));
  ctx.fx.emulator.setFaults({ latencyMs: 0 });
  await ctx.workflows.signal(mapping, 'unmap');
  await latest.result();
  const { runId } = await latest.describe();
  return {
    'continue-as-new-first-run': ctx.client.workflow.getHandle(first.workflowId, first.firstExecutionRunId),
    'continue-as-new-last-run': ctx.client.workflow.getHandle(first.workflowId, runId),
  };
}

/**
 * The first run of a mapping with three cycles a run, a file added after its first cycle: it ends
 * after its cycles, or `shortening` cycles early by the mapping's stagger.
 */
async function recordFirstRun(ctx: Context, name: string, shortening: number): Promise<Record<string, WorkflowHandle>> {
  const { fx } = ctx;
  const folder = shortening ? 'Staggered' : 'Bounded';
  const { mapping, path, first, latest } = await startWithInput(ctx, folder, 3, { cyclesPerRun: 3 }, shortening);
  await until(latest, 'the first cycle', cycles(1));
  fx.emulator.addFile(fx.accountId, `${path}/Added in the first run.pdf`);
  await until(latest, 'a cycle of the second run', (s) => s.runs >= 1 && cycles(3 - shortening + 1)(s));
  await ctx.workflows.signal(mapping, 'unmap');
  await latest.result();
  return { [name]: ctx.client.workflow.getHandle(first.workflowId, first.firstExecutionRunId) };
}

/**
 * A run with nothing to do: the second run of a mapping with four cycles a run, where every cycle
 * checks the token, lists an unchanged folder and waits. It is what a worker with fewer cached runs
 * than mappings replays at every wake-up.
 */
async function recordIdleRun(ctx: Context): Promise<Record<string, WorkflowHandle>> {
  const { mapping, first, latest } = await startWithInput(ctx, 'Idle', 3, { cyclesPerRun: 4 });
  await until(latest, 'the whole second run', (s) => s.runs >= 2);
  await ctx.workflows.signal(mapping, 'unmap');
  await latest.result();
  const { events } = await ctx.client.workflow.getHandle(first.workflowId, first.firstExecutionRunId).fetchHistory();
  const secondRunId = events?.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId;
  if (!secondRunId) throw new Error('the first run did not continue as new');
  return { 'idle-run': ctx.client.workflow.getHandle(first.workflowId, secondRunId) };
}

/** Each scenario by name, with the histories it writes. */
const recorders: Record<string, (ctx: Context) => Promise<Record<string, WorkflowHandle>>> = {
  ...Object.fromEntries(scenarios.map((s) => [s.name, async (ctx: Context) => ({ [s.name]: await s.run(ctx) })])),
  'continue-as-new': recordContinueAsNew,
  'bounded-run': (ctx) => recordFirstRun(ctx, 'bounded-run-first-run', 0),
  'staggered-run': (ctx) => recordFirstRun(ctx, 'staggered-run-first-run', 1),
  'idle-run': recordIdleRun,
};

async function main(cleanups: (() => Promise<void>)[]): Promise<void> {
  // `npm run record-histories -- idle-run` records only the scenarios named.
  const only = process.argv.slice(2);
  const unknown = only.filter((name) => !(name in recorders));
  if (unknown.length) throw new Error(`no such scenario: ${unknown.join(', ')} (known: ${Object.keys(recorders).join(', ')})`);
  installQuietRuntime();
  // The CLI exports histories in the JSON form the replayer reads (protobuf's canonical JSON).
  const tools = await installTools({ cacheDir: defaultCacheDir(process.env), env: process.env, log });
  {
    if (!process.env.MONGODB_URI) {
      const dataDir = await mkdtemp(join(tmpdir(), 'dfs-record-'));
      const ferret = await startFerretDb({ binPath: tools.ferretDb, dataDir, log });
      cleanups.unshift(
        () => removeQuietly(dataDir),
        () => ferret.stop(),
      );
      process.env.MONGODB_URI = ferret.uri;
    }
    if (!process.env.TEMPORAL_ADDRESS) {
      const temporal = await startTemporalDevServer({ cliPath: tools.temporalCli, headless: true, log });
      cleanups.unshift(() => temporal.stop());
      process.env.TEMPORAL_ADDRESS = temporal.address;
    }
  }
  const fx = await openSyncFixture('record', { pageLimit: 50 });
  cleanups.unshift(() => fx.close());
  const taskQueue = `record-histories-${Date.now()}`;
  const nativeConnection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS });
  // Versioned as the product's workers are, under a deployment of its own.
  const version = { deploymentName: 'record-histories', buildId: `record-${Date.now()}` };
  const worker = await pairWorkers(
    {
      connection: nativeConnection,
      taskQueue,
      activities: createActivities(fx.deps),
      sinks: cycleReportSinks(silentLogger),
      ...(await workflowSource(silentLogger)),
      workerDeploymentOptions: workerDeploymentOptions(version),
    },
    2,
  );
  const running = worker.run();
  cleanups.unshift(async () => {
    worker.shutdown();
    await running;
    await nativeConnection.close();
  });
  await makeVersionCurrent(nativeConnection.workflowService, 'default', version);
  const connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS });
  cleanups.unshift(() => connection.close());
  const client = new Client({ connection });
  const ctx: Context = {
    fx,
    client,
    taskQueue,
    workflows: createSyncWorkflows({ client, taskQueue, pollIntervalMs: POLL_MS, log: silentLogger }),
  };

  const recorded: Record<string, WorkflowHandle> = {};
  for (const [name, record] of Object.entries(recorders)) {
    if (only.length && !only.includes(name)) continue;
    log(`running ${name}`);
    Object.assign(recorded, await record(ctx));
  }

  await mkdir(OUT_DIR, { recursive: true });
  for (const [name, handle] of Object.entries(recorded)) {
    const { runId } = await handle.describe();
    const { stdout } = await runCommandOrThrow(tools.temporalCli, [
      'workflow',
      'show',
      '--address',
      String(process.env.TEMPORAL_ADDRESS),
      '--workflow-id',
      handle.workflowId,
      '--run-id',
      runId,
      '--output',
      'json',
    ]);
    const events = (JSON.parse(stdout) as { events: unknown[] }).events.length;
    const file = join(OUT_DIR, `${name}.json`);
    await writeFile(file, stdout.trimEnd() + '\n');
    log(`wrote ${file} (${events} events)`);
  }
}

const cleanups: (() => Promise<void>)[] = [];
main(cleanups)
  .catch((err: unknown) => {
    console.error(`[record] failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exitCode = 1;
  })
  .finally(async () => {
    for (const cleanup of cleanups) await cleanup().catch(() => undefined);
  });
