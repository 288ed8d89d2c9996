/**
 * Scenario 1: the first sync of one folder of N files, by the workflow, against the raw limit of
 * the same work measured in the same run: paging the same listing with the Dropbox SDK and one
 * insertMany of the same records into an empty, indexed collection of the same FerretDB.
 */
import { collections } from '../src/db/collections';
import { planListedFiles } from '../src/db/filePlan';
import type { ListedFile } from '../src/domain/types';
import { folderSyncWorkflowId, statusQuery, type FolderSyncStatus } from '../src/workflows/definitions';
import { sdkClientFor } from '../src/dev/dropboxEmulator/index';
import type { BenchArgs } from './args';
import { openFixture, waitFor, type Fixture } from './fixture';
import { fetchRunsSince, lastCompletionMs, summarizeRuns, timeline, type RunsSummary } from './history';
import { describeCpu, processCpuSeconds, watchCpu, type CpuUsage } from './machine';
import { addRow, fmt, kib, percentile, say, seconds } from './report';
import type { BenchStack } from './stack';
import type { WorkerCounters } from './workerChild';
import { counterDelta, startBenchWorker, type BenchWorker } from './workerProcess';

interface RawTiming {
  listMs: number;
  insertMs: number;
  pages: number;
  /** FerretDB's CPU during the insertMany (NaN when the bench did not start it). */
  ferretDbCpuMs: number;
}

/** FerretDB's CPU seconds so far, in ms; NaN for a database the bench did not start. */
function ferretDbCpuMs(stack: BenchStack): number {
  const pid = stack.pids.ferretDb;
  return pid ? (processCpuSeconds(pid) ?? NaN) * 1000 : NaN;
}

/**
 * Waits until FerretDB has been idle for a moment (at most a few seconds): the work before a
 * measurement (the previous run's count of its records, the warm-up's inserts) leaves garbage
 * FerretDB's collector would otherwise work off during it.
 */
async function databaseQuiet(stack: BenchStack): Promise<void> {
  const deadline = Date.now() + 5_000;
  let before = ferretDbCpuMs(stack);
  while (Number.isFinite(before) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    const now = ferretDbCpuMs(stack);
    if (now - before <= 10) return;
    before = now;
  }
}

/** Every file of `path`, listed with the SDK page by page, as the raw reference lists it. */
export async function listFilesWithSdk(
  sdk: ReturnType<typeof sdkClientFor>,
  path: string,
  pageLimit: number,
): Promise<{ entries: ListedFile[]; pages: number }> {
  const entries: ListedFile[] = [];
  let pages = 1;
  let page = (await sdk.filesListFolder({ path, limit: pageLimit, recursive: false, include_deleted: false }))
    .result;
  for (;;) {
    for (const e of page.entries) {
      if (e['.tag'] !== 'file') continue;
      entries.push({
        id: e.id,
        name: e.name,
        pathDisplay: e.path_display ?? e.name,
        pathLower: e.path_lower ?? e.name.toLowerCase(),
        rev: e.rev,
        size: e.size,
        serverModified: e.server_modified,
        ...(e.content_hash ? { contentHash: e.content_hash } : {}),
      });
    }
    if (!page.has_more) return { entries, pages };
    page = (await sdk.filesListFolderContinue({ cursor: page.cursor })).result;
    pages += 1;
  }
}

/** Lists `path` with the SDK, page by page, then inserts every file's record at once. */
async function measureRaw(
  stack: BenchStack,
  token: string,
  path: string,
  pageLimit: number,
  n: number,
): Promise<RawTiming> {
  const sdk = sdkClientFor(stack.emulator.url, token);
  await databaseQuiet(stack);
  const started = performance.now();
  const { entries, pages } = await listFilesWithSdk(sdk, path, pageLimit);
  const listed = performance.now();
  if (entries.length !== n) throw new Error(`raw listing saw ${entries.length} files, not ${n}`);
  const { db } = await stack.openDb('raw');
  const plan = planListedFiles(
    { id: 'raw-mapping', projectId: 'raw-project' },
    entries,
    1,
    new Date(),
    new Map(),
  );
  const cpuBefore = ferretDbCpuMs(stack);
  const insertStarted = performance.now();
  await collections(db).files.insertMany(plan.inserts, { ordered: false });
  const inserted = performance.now();
  const ferretDbCpu = ferretDbCpuMs(stack) - cpuBefore;
  await db.dropDatabase();
  return { listMs: listed - started, insertMs: inserted - insertStarted, pages, ferretDbCpuMs: ferretDbCpu };
}

/**
 * A small sync (three pages) on the new worker first: the measured one then runs on a warm
 * worker, as on a long-running one in production (connections open, code compiled), and as the
 * raw reference does, which takes the better of its two runs.
 */
// Its state recorded too: terminated mid-activity, the worker would warn of the lost completion.
const isWaitingAfterCycle = (s: FolderSyncStatus) => s.counters.cycles >= 1 && s.phase === 'waiting';

async function warmUp(stack: BenchStack, fx: Fixture, pageLimit: number): Promise<void> {
  const path = '/Bench/warm-up';
  stack.emulator.bulkAddFiles(fx.accountId, path, 2 * pageLimit + 1);
  const mapping = await fx.map(path);
  await fx.workflows(3_600_000).start(mapping);
  const handle = stack.client.workflow.getHandle(folderSyncWorkflowId(mapping._id));
  await waitFor(
    'the warm-up sync',
    async () => (isWaitingAfterCycle(await handle.query(statusQuery)) ? true : undefined),
    {
      timeoutMs: 120_000,
      everyMs: 100,
    },
  );
  await handle.terminate('warm-up done');
}

interface WorkflowTiming {
  wallMs: number;
  observedMs: number;
  usage: CpuUsage;
  delta: WorkerCounters;
  calls: number;
  runs: RunsSummary;
  memory: ReturnType<BenchWorker['memory']>;
  steps: string[];
}

/** A folder of `n` files in a fixture (a database and a Dropbox account) of its own. */
async function seededFolder(
  stack: BenchStack,
  label: string,
  n: number,
): Promise<{ fx: Fixture; path: string }> {
  const fx = await openFixture(stack, label);
  const path = `/Bench/initial-${n}`;
  stack.emulator.bulkAddFiles(fx.accountId, path, n, { size: 1_000_000 });
  return { fx, path };
}

/** The first sync of `path` by the workflow, on a new worker warmed up by a small sync. */
async function measureWorkflow(
  stack: BenchStack,
  args: BenchArgs,
  fx: Fixture,
  path: string,
  n: number,
): Promise<WorkflowTiming> {
  const worker = await startBenchWorker(stack, {
    dbUri: fx.dbUri,
    taskQueue: fx.taskQueue,
    pageLimit: args.pageLimit,
    tuning: args.tuning,
    nodeArgs: args.workerNodeArgs,
  });
  await warmUp(stack, fx, args.pageLimit);
  const mapping = await fx.map(path);
  const workflowId = folderSyncWorkflowId(mapping._id);
  await databaseQuiet(stack);
  const before = await worker.freshCounters();
  const callsBefore = stack.emulator.calls().total;
  const cpu = watchCpu({
    worker: worker.pid,
    'dev server': stack.pids.temporal,
    FerretDB: stack.pids.ferretDb,
    'bench (emulator)': process.pid,
  });
  const startedAt = Date.now();
  // One cycle only: the next one is an hour away.
  await fx.workflows(3_600_000).start(mapping);
  const handle = stack.client.workflow.getHandle(workflowId);
  const status = await waitFor(
    'the initial sync',
    async () => {
      const s = await handle.query(statusQuery);
      if (s.lastError) throw new Error(`the workflow reports: ${s.lastError}`);
      return s.counters.cycles >= 1 ? s : undefined;
    },
    { timeoutMs: 60 * 60_000, everyMs: 250 },
  );
  const observedMs = Date.now() - startedAt;
  const usage = cpu.stop();
  const delta = counterDelta(before, await worker.freshCounters());
  const calls = stack.emulator.calls().total - callsBefore;
  const runs = await summarizeRuns(stack.client, workflowId);
  // The later of the workflow's own record of the sync's end and the server's record of the last
  // page's recording (a local activity's time is the workflow's clock, which lags by its tasks).
  // The status may answer before the task that ran the last recording has completed; the run that
  // holds it may have continued as new since (a mapping's stagger can end its first run early).
  const { events, recordedMs } = await waitFor(
    'the last recording in the history',
    async () => {
      const found = (await fetchRunsSince(stack.client, workflowId, runs.firstStart.getTime())).flat();
      const last = lastCompletionMs(found, 'persistNewFiles');
      return last !== undefined ? { events: found, recordedMs: last } : undefined;
    },
    { timeoutMs: 60_000, everyMs: 50 },
  );
  const endMs = Math.max(Date.parse(status.lastSyncAt ?? ''), recordedMs);
  const wallMs = endMs - runs.firstStart.getTime();
  const live = await fx.repos.files.countLive(mapping._id);
  const memory = worker.memory();
  const steps = args.timeline ? timeline(events) : [];
  await handle.terminate('bench done').catch(() => undefined);
  await worker.stop();
  if (live !== n) throw new Error(`the workflow recorded ${live} files, not ${n}`);
  return { wallMs, observedMs, usage, delta, calls, runs, memory, steps };
}

/**
 * Both sides measured `--repeats` times, interleaved (raw, workflow, raw, workflow, …), each in a
 * database of its own; the better run of each is compared, and each pair's ratio is printed.
 */
export async function runInitialSync(stack: BenchStack, args: BenchArgs, n: number): Promise<void> {
  say(`\n## 1. Initial sync of one folder with ${fmt(n)} files`);
  const seeded = performance.now();
  const folders = [];
  for (let i = 0; i < args.repeats; i++) folders.push(await seededFolder(stack, `initial_${n}_${i}`, n));
  say(`  seeded the emulator in ${seconds(performance.now() - seeded)}`);

  const raws: RawTiming[] = [];
  const workflowRuns: WorkflowTiming[] = [];
  for (const { fx, path } of folders) {
    if (!args.skipRaw) raws.push(await measureRaw(stack, fx.token, path, args.pageLimit, n));
    workflowRuns.push(await measureWorkflow(stack, args, fx, path, n));
  }
  const w = workflowRuns.reduce((a, b) => (a.wallMs <= b.wallMs ? a : b));
  const { wallMs, observedMs, usage, delta, calls, runs, memory, steps } = w;

  const best =
    raws.length > 0
      ? raws.reduce((a, b) => (a.listMs + a.insertMs <= b.listMs + b.insertMs ? a : b))
      : undefined;
  const rawMs = best ? best.listMs + best.insertMs : NaN;
  const ratio = wallMs / rawMs;
  addRow({
    figure: `initial sync ${fmt(n)} files: wall time`,
    measured: `${seconds(wallMs)} (${fmt(n / (wallMs / 1000))} files/s; runs: ${workflowRuns.map((r) => seconds(r.wallMs)).join(', ')})`,
    reference: best
      ? `raw ${seconds(rawMs)} (${fmt(n / (rawMs / 1000))} files/s: SDK paging ${seconds(best.listMs)} over ${best.pages} pages + insertMany ${seconds(best.insertMs)}; runs: ${raws.map((r) => seconds(r.listMs + r.insertMs)).join(', ')})`
      : 'skipped',
    goal: '≤ 1.25× raw',
  });
  const pairs = raws.map((r, i) => workflowRuns[i]!.wallMs / (r.listMs + r.insertMs));
  addRow({
    figure: `initial sync ${fmt(n)} files: workflow ÷ raw`,
    measured: `${fmt(ratio, 2)}×`,
    reference:
      pairs.length > 1
        ? `each pair (raw, then workflow): ${pairs.map((p) => `${fmt(p, 2)}×`).join(', ')}; median ${fmt(percentile(pairs, 50), 2)}×`
        : '',
    goal: '≤ 1.25×',
    ...(best ? { met: ratio <= 1.25 } : {}),
  });
  addRow({
    figure: `initial sync ${fmt(n)} files: history`,
    measured: `${fmt(runs.events)} events, ${kib(runs.bytes, 0)} over ${runs.runs} run(s) (continued as new ${runs.continuedAsNew}×)`,
    reference: `Temporal suggests continue-as-new at 4,096 events or 4 MiB per run`,
    goal: '',
  });
  // Whether the workflow asks more of the database than the raw insert, or keeps it waiting.
  say(
    `  FerretDB CPU, raw insertMany: ${raws.map((r) => `${fmt(r.ferretDbCpuMs)} ms in ${fmt(r.insertMs)}`).join(', ')}; ` +
      `workflow: ${workflowRuns.map((r) => `${fmt((r.usage.byName['FerretDB'] ?? NaN) * 1000)} ms in ${fmt(r.wallMs)} (observed ${fmt(r.observedMs)})`).join(', ')}`,
  );
  say(`  the better workflow run:`);
  say(`  observed by polling the status query: ${seconds(observedMs)}; Dropbox calls ${calls}`);
  say(`  ${describeCpu(usage)}`);
  say(
    `  MongoDB commands (worker): ${JSON.stringify(delta.commands)}, ms in all ${JSON.stringify(delta.commandMs)}; documents written ${fmt(delta.docsWritten)}`,
  );
  say(
    `  activities: ${Object.entries(delta.activities)
      .map(([name, a]) => `${name} ${a.count}× ${seconds(a.ms)}`)
      .join(', ')}`,
  );
  if (steps.length > 0) say(`  timeline (ms from the run's start):\n    ${steps.join('\n    ')}`);
  say(`  worker memory: RSS ${fmt(memory.rssMiB)} MiB, peak ${fmt(memory.peakMiB)} MiB`);
}
