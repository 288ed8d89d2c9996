/**
 * Scenario 3: N active mappings on one worker, the poll interval compressed so that the total
 * cycle rate is that of 5,000 mappings every five minutes (16.7 cycles/s): interval = N / rate.
 * Workflows start at that rate, so their cycles are spread evenly over the interval; after one
 * interval of ramp, `window` intervals are measured. Cycle lag is read from each history: when
 * the cycle's workflow task started against when its poll timer was due (for a continued run's
 * first cycle, an interval after the run began).
 */
import type { WorkflowHandle } from '@temporalio/client';
import type { Mapping } from '../src/domain/types';
import { folderSyncWorkflowId } from '../src/workflows/definitions';
import type { BenchArgs } from './args';
import { mapLimit, openFixture, sleep } from './fixture';
import { cycleTimings, eventsInWindow, fetchRunsSince, type CycleTiming } from './history';
import { describeCpu, machineCpuSeconds, threadCpuSeconds, watchCpu } from './machine';
import { addRow, fmt, percentile, say, seconds } from './report';
import type { BenchStack } from './stack';
import type { WorkerCounters } from './workerChild';
import { counterDelta, startBenchWorker, type BenchWorker } from './workerProcess';
import { describeInterval, freeWorkflowSlots, type Scrape } from './workerMetrics';

const LAG_GOAL_MS = 30_000;
const RSS_GOAL_MIB = 1024;

export interface ManyResult {
  mappings: number;
  keptUp: boolean;
}

interface IntervalSample {
  rssMiB: number;
  fewestFreeSlots: number;
  /** The worker's counters when the interval began and at its last sample. */
  countersFrom: WorkerCounters;
  countersTo?: WorkerCounters;
  /** CPU seconds by worker thread name when the interval began and at its last sample. */
  threadsFrom: Record<string, number>;
  threadsTo?: Record<string, number>;
  /** The whole machine's CPU seconds (busy, total, stolen) at the same two points. */
  machineFrom: ReturnType<typeof machineCpuSeconds>;
  machineTo?: ReturnType<typeof machineCpuSeconds>;
  secondsMeasured: number;
  from?: Scrape;
  to?: Scrape;
}

function describeIntervals(worker: BenchWorker, intervals: IntervalSample[], windowStart: number, intervalMs: number): string[] {
  return intervals.map((interval, k) => {
    const start = windowStart + k * intervalMs;
    const main = worker.mainThreadBetween(start, start + intervalMs);
    const gcMs = main.reduce((sum, m) => sum + m.gcMs, 0);
    const parts = [
      `RSS ≤ ${fmt(interval.rssMiB)} MiB`,
      `main thread: event-loop delay p99 ≤ ${fmt(Math.max(0, ...main.map((m) => m.loopP99Ms)))} ms, max ${fmt(Math.max(0, ...main.map((m) => m.loopMaxMs)))} ms; GC ${fmt(gcMs / Math.max(1, main.length), 0)} ms a second (longest ${fmt(Math.max(0, ...main.map((m) => m.gcMaxMs)))} ms)`,
    ];
    if (interval.countersTo) {
      const d = counterDelta(interval.countersFrom, interval.countersTo);
      const finds = d.commands.find ?? 0;
      parts.push(`MongoDB find ${fmt(finds)}×, ${finds ? fmt((d.commandMs?.find ?? 0) / finds, 1) : '–'} ms avg`);
    }
    if (interval.threadsTo) {
      const busiest = Object.entries(interval.threadsTo)
        .map(([name, s]) => [name, (s - (interval.threadsFrom[name] ?? 0)) / interval.secondsMeasured] as const)
        .sort((a, b) => b[1] - a[1])
        .slice(0, 4);
      parts.push(`busiest worker threads (cores): ${busiest.map(([name, cores]) => `${name} ${fmt(cores, 2)}`).join(', ')}`);
    }
    if (interval.machineTo) {
      const wall = interval.secondsMeasured || 1;
      const busy = (interval.machineTo.busy - interval.machineFrom.busy) / wall;
      const stolen = (interval.machineTo.steal - interval.machineFrom.steal) / wall;
      parts.push(`machine ${fmt(busy, 2)} cores busy, ${fmt(stolen, 2)} stolen by the hypervisor`);
    }
    if (interval.from && interval.to) parts.push(describeInterval(interval.from, interval.to, interval.fewestFreeSlots));
    return `interval ${k + 1}: ${parts.join('; ')}`;
  });
}

export async function runManyMappings(stack: BenchStack, args: BenchArgs, n: number): Promise<ManyResult> {
  const intervalMs = Math.round((n / args.cyclesPerSecond) * 1000);
  const lifetime = args.tokenLifetimeSeconds;
  say(
    `\n## 3. ${fmt(n)} mappings on one worker, poll interval ${seconds(intervalMs)} (${fmt(args.cyclesPerSecond, 1)} cycles/s)` +
      (lifetime === undefined ? '' : `, one connection with a refresh token, access tokens living ${fmt(lifetime)} s`),
  );
  const fx = await openFixture(stack, `many_${n}`, lifetime === undefined ? {} : { tokenLifetimeSeconds: lifetime });
  const connectedAt = Date.now();
  const setupStarted = Date.now();
  const mappings = await mapLimit(
    Array.from({ length: n }, (_, i) => i),
    8,
    async (i): Promise<Mapping> => {
      const path = `/Bench/many/m${String(i).padStart(5, '0')}`;
      if (args.filesPerMapping > 0) stack.emulator.bulkAddFiles(fx.accountId, path, args.filesPerMapping);
      else stack.emulator.addFolder(fx.accountId, path);
      return fx.map(path);
    },
  );
  say(`  ${fmt(n)} mappings created (${seconds(Date.now() - setupStarted)})`);

  const worker = await startBenchWorker(stack, {
    dbUri: fx.dbUri,
    taskQueue: fx.taskQueue,
    pageLimit: args.pageLimit,
    // Sized as the README says to size it: every mapping the worker runs fits in its cache.
    tuning: { maxCachedWorkflows: n + 100, ...args.tuning },
    nodeArgs: args.workerNodeArgs,
  });
  const workflows = fx.workflows(intervalMs, args.cyclesPerRun);
  const handles: WorkflowHandle[] = mappings.map((m) =>
    stack.client.workflow.getHandle(folderSyncWorkflowId(m._id)),
  );

  // Ramp: one start every 1/rate seconds, so the cycles are spread over the interval.
  const rampStarted = Date.now();
  const gapMs = 1000 / args.cyclesPerSecond;
  let late = 0;
  await mapLimit(mappings, 32, async (m, i) => {
    const at = rampStarted + i * gapMs;
    const wait = at - Date.now();
    if (wait > 0) await sleep(wait);
    else if (wait < -1_000) late += 1;
    await workflows.start(m);
  });
  const rampMs = Date.now() - rampStarted;
  say(
    `  ramp: ${fmt(n)} workflows started in ${seconds(rampMs)}${late ? ` (${late} started over 1 s late)` : ''}`,
  );

  // Every cycle lists the folder once (its folder is small: one page). Once as many listings as
  // mappings are done and a whole interval has passed, the first cycles are behind: from then
  // on every cycle is an idle one. (A new mapping's first cycle of an empty folder writes
  // nothing, so persistNewFiles cannot mark it.)
  const firstCyclesDone = () => {
    const l = worker.counters().activities.listFolder;
    return l ? l.count - l.failed : 0;
  };
  const deadline = Date.now() + Math.max(10 * 60_000, 3 * intervalMs);
  while (firstCyclesDone() < n && Date.now() < deadline) await sleep(500);
  const initialMs = Date.now() - rampStarted;
  say(
    `  first cycles: ${fmt(firstCyclesDone())} of ${fmt(n)} done ${seconds(initialMs)} after the ramp began` +
      ` (${fmt(Object.values(worker.counters().activities).reduce((f, a) => f + a.failed, 0))} activity attempts failed so far)`,
  );
  const windowStart = Math.max(Date.now(), rampStarted + intervalMs);
  await sleep(windowStart - Date.now());
  const cpu = watchCpu({
    worker: worker.pid,
    'dev server': stack.pids.temporal,
    FerretDB: stack.pids.ferretDb,
    'bench (emulator, client)': process.pid,
  });
  const countersA = await worker.freshCounters();
  const callsA = stack.emulator.calls().total;
  const windowMs = intervalMs * args.windowIntervals;
  const rss: number[] = [];
  // Each interval of the window as the worker saw it: whether a long window levels off, and
  // what a worker that falls behind is short of.
  const intervals: IntervalSample[] = [];
  let lastScrape = await worker.metrics().catch(() => undefined);
  let lastCounters = countersA;
  let lastThreads = { at: Date.now(), cpu: threadCpuSeconds(worker.pid), machine: machineCpuSeconds() };
  const windowEnd = windowStart + windowMs;
  while (Date.now() < windowEnd) {
    await sleep(Math.min(5_000, windowEnd - Date.now()));
    const now = worker.memory().rssMiB;
    rss.push(now);
    const k = Math.min(args.windowIntervals - 1, Math.floor((Date.now() - windowStart) / intervalMs));
    const interval = (intervals[k] ??= {
      rssMiB: 0,
      fewestFreeSlots: Infinity,
      from: lastScrape,
      countersFrom: lastCounters,
      threadsFrom: lastThreads.cpu,
      machineFrom: lastThreads.machine,
      secondsMeasured: 0,
    });
    interval.rssMiB = Math.max(interval.rssMiB, now);
    interval.countersTo = lastCounters = worker.counters();
    const threads = { at: Date.now(), cpu: threadCpuSeconds(worker.pid), machine: machineCpuSeconds() };
    interval.threadsTo = threads.cpu;
    interval.machineTo = threads.machine;
    interval.secondsMeasured += (threads.at - lastThreads.at) / 1000;
    lastThreads = threads;
    const scraped = await worker.metrics().catch(() => undefined);
    if (scraped) {
      interval.to = scraped;
      interval.fewestFreeSlots = Math.min(interval.fewestFreeSlots, freeWorkflowSlots(scraped));
      lastScrape = scraped;
    }
  }
  const rssPerInterval = intervals.map((i) => i.rssMiB);
  if (process.env.BENCH_DEBUG && lastScrape)
    say(`  debug: the worker's last metrics:\n${[...lastScrape].map(([k, v]) => `    ${k} ${v}`).join('\n')}`);
  const usage = cpu.stop();
  const countersB = await worker.freshCounters();
  const calls = stack.emulator.calls().total - callsA;
  const memory = worker.memory();
  await worker.stop();

  const fetched = Date.now();
  // Every run in the window: a mapping continues as new every 12 cycles.
  const eventTypes = new Map<string, number>();
  const perWorkflow = await mapLimit(handles, 16, async (h) => {
    const runs = await fetchRunsSince(stack.client, h.workflowId, windowStart);
    for (const run of runs)
      for (const [type, count] of eventsInWindow(run, windowStart, windowEnd))
        eventTypes.set(type, (eventTypes.get(type) ?? 0) + count);
    return runs.flatMap((run) => cycleTimings(run, windowStart, windowEnd));
  });
  const timings: CycleTiming[] = perWorkflow.flat();
  if (process.env.BENCH_DEBUG) {
    const hist: Record<number, number> = {};
    for (const t of perWorkflow) hist[t.length] = (hist[t.length] ?? 0) + 1;
    say(`  debug: cycles due per workflow in the window: ${JSON.stringify(hist)}`);
    const none = perWorkflow.findIndex((t) => t.length === 0);
    if (none >= 0) say(`  debug: e.g. ${handles[none]?.workflowId}`);
  }
  say(`  read ${fmt(n)} histories (${seconds(Date.now() - fetched)})`);
  if (!process.env.BENCH_DEBUG)
    await mapLimit(handles, 32, (h) => h.terminate('bench done').catch(() => undefined));

  const lags = timings.map((t) => t.lagMs);
  const started = timings.filter((t) => !t.censored);
  const censored = timings.length - started.length;
  const p50 = percentile(lags, 50);
  const p99 = percentile(lags, 99);
  const rate = started.length / (windowMs / 1000);
  const expected = n * args.windowIntervals;
  // A cycle due in the last moments of the window may not have started by its end; only one
  // already later than the goal when the window closed counts as left behind.
  const leftBehind = timings.filter((t) => t.censored && t.lagMs >= LAG_GOAL_MS).length;
  const keptUp = p99 < LAG_GOAL_MS && memory.peakMiB < RSS_GOAL_MIB && leftBehind === 0;
  const pick = (f: (t: CycleTiming) => number | undefined) =>
    started.map(f).filter((v): v is number => v !== undefined);
  const part = (label: string, values: number[]) =>
    `${label} p50 ${seconds(percentile(values, 50), 2)} / p99 ${seconds(percentile(values, 99), 2)}`;
  const delta = counterDelta(countersA, countersB);

  addRow({
    figure: `${fmt(n)} mappings: cycle lag p50 / p99`,
    measured: `${seconds(p50, 2)} / ${seconds(p99, 2)}${censored ? ` (${censored} cycles due but not started by the end, ${leftBehind} of them over the goal)` : ''}`,
    reference: `${fmt(timings.length)} cycles due in ${seconds(windowMs, 0)} (≈${fmt(expected)} expected); ${fmt(rate, 1)} cycles/s done vs ${fmt(args.cyclesPerSecond, 1)} target`,
    goal: n >= 5_000 ? 'p99 < 30 s at 5,000' : 'p99 < 30 s',
    met: p99 < LAG_GOAL_MS,
  });
  addRow({
    figure: `${fmt(n)} mappings: worker CPU`,
    measured: `${fmt((usage.byName.worker ?? NaN) / usage.wallSeconds, 2)} cores`,
    reference: describeCpu(usage).replace(/^cores used: /u, ''),
    goal: '',
  });
  addRow({
    figure: `${fmt(n)} mappings: worker RSS`,
    measured: `peak ${fmt(memory.peakMiB)} MiB (in the window ${fmt(Math.min(...rss))}–${fmt(Math.max(...rss))} MiB)`,
    reference: '',
    goal: n >= 5_000 ? '< 1 GB at 5,000' : '< 1 GB',
    met: memory.peakMiB < RSS_GOAL_MIB,
  });
  if (lifetime !== undefined) {
    // One connection: every mapping's calls share its token, so the goal is one refresh per lifetime.
    const inWindow = fx.refreshesBetween(windowStart, windowEnd);
    const sinceConnected = fx.refreshesBetween(connectedAt, windowEnd);
    const perLifetime = (count: number, ms: number) => fmt(count / (ms / 1000 / lifetime), 2);
    addRow({
      figure: `${fmt(n)} mappings: token refreshes per lifetime per connection`,
      measured: `${perLifetime(inWindow, windowMs)} (${inWindow} in the ${seconds(windowMs, 0)} window, lifetime ${fmt(lifetime)} s, 1 connection)`,
      reference: `${perLifetime(sinceConnected, windowEnd - connectedAt)} from connecting to the window's end (${sinceConnected} in ${seconds(windowEnd - connectedAt, 0)}); token endpoint answers in all (login included), by status: ${JSON.stringify(stack.emulator.tokenCalls().byStatus)}`,
      goal: '1 per lifetime',
    });
  }
  say(
    `  lag parts: ${part(
      'timer fired late',
      pick((t) => t.fireDelayMs),
    )}; ${part(
      'task waited for the worker',
      pick((t) => t.scheduleToStartMs),
    )}; ${part(
      'cycle ran',
      pick((t) => t.runMs),
    )}; ${part(
      'a continued run took to start its timer',
      pick((t) => t.runStartMs),
    )}`,
  );
  // CPU seconds per cycle done: unlike the lag, this hardly moves with what the hypervisor takes.
  const perCycle = Object.entries(usage.byName)
    .map(([name, cpuSeconds]) => `${name} ${fmt((cpuSeconds * 1000) / Math.max(1, started.length), 1)}`)
    .join(', ');
  say(`  CPU per cycle done (ms): ${perCycle}`);
  const events = [...eventTypes.values()].reduce((a, b) => a + b, 0);
  const failedTasks = (eventTypes.get('WORKFLOW_TASK_FAILED') ?? 0) + (eventTypes.get('WORKFLOW_TASK_TIMED_OUT') ?? 0);
  say(
    `  history: ${fmt(events / Math.max(1, started.length), 1)} events per cycle in the window; workflow tasks failed or timed out: ${fmt(failedTasks)}`,
  );
  if (args.windowIntervals > 1)
    say(`  worker RSS, highest per interval (MiB): ${rssPerInterval.map((v) => fmt(v)).join(', ')}`);
  for (const line of describeIntervals(worker, intervals, windowStart, intervalMs)) say(`  ${line}`);
  say(
    `  Dropbox calls ${fmt(calls / Math.max(1, started.length), 2)} per cycle; MongoDB commands (worker) ${JSON.stringify(delta.commands)}; docs written ${delta.docsWritten}`,
  );
  say(
    `  activities: ${Object.entries(delta.activities)
      .map(
        ([name, a]) =>
          `${name} ${a.count}×${a.failed ? ` (${a.failed} failed)` : ''} avg ${fmt(a.ms / a.count, 1)} ms`,
      )
      .join(', ')}`,
  );
  const cache = countersB.cache;
  if (cache) {
    say(
      `  worker cache: ${fmt(cache.workflows)} workflows of ${fmt(cache.capacity)}; JS heap ${fmt(cache.heapUsedMiB)} MiB used (peak ${fmt(cache.peakHeapUsedMiB)}) of ${fmt(cache.heapTotalMiB)} MiB, external ${fmt(cache.externalMiB)} MiB`,
    );
  }
  say(`  ${keptUp ? 'kept up' : 'did NOT keep up'}`);
  return { mappings: n, keptUp };
}
