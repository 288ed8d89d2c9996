/** Starts bench/workerChild.ts as a child process and reads its counters and memory. */
import { resolve } from 'node:path';
import type { WorkerOptions } from '@temporalio/worker';
import { startManagedProcess, type ManagedProcess } from '../src/dev/childProcess';
import { findFreePort } from '../src/ports';
import { processMemoryMiB } from './machine';
import type { BenchStack } from './stack';
import type { MainThreadSample, WorkerCounters } from './workerChild';
import { scrape, type Scrape } from './workerMetrics';

const root = resolve(__dirname, '..');
const MAX_ECHOED_LINES = 12;

export interface BenchWorker {
  pid: number;
  /** The latest counters the worker reported (at most 250 ms old). */
  counters(): WorkerCounters;
  /** Waits until the worker has reported counters newer than now (so a delta is complete). */
  freshCounters(): Promise<WorkerCounters>;
  /** Samples VmRSS every second; peak() gives the highest sample and VmHWM. */
  memory(): { rssMiB: number; peakMiB: number; sampledPeakMiB: number };
  /** The SDK's metrics as the worker serves them now. */
  metrics(): Promise<Scrape>;
  /** The main thread's per-second samples received in [from, to) (epoch ms). */
  mainThreadBetween(from: number, to: number): MainThreadSample[];
  stop(): Promise<void>;
}

export async function startBenchWorker(
  stack: BenchStack,
  options: {
    dbUri: string;
    taskQueue: string;
    pageLimit: number;
    tuning: Partial<WorkerOptions>;
    nodeArgs: string[];
  },
): Promise<BenchWorker> {
  let latest: WorkerCounters = { commands: {}, docsWritten: 0, activities: {} };
  let received = 0;
  let otherLines = 0;
  const mainThread: { at: number; sample: MainThreadSample }[] = [];
  const metricsAddress = `127.0.0.1:${await findFreePort()}`;
  let ready: () => void = () => undefined;
  const isReady = new Promise<void>((r) => (ready = r));
  const child: ManagedProcess = startManagedProcess({
    name: 'bench worker',
    file: process.execPath,
    args: [...options.nodeArgs, '--import', 'tsx', resolve(__dirname, 'workerChild.ts')],
    cwd: root,
    env: {
      ...process.env,
      MONGODB_URI: options.dbUri,
      TEMPORAL_ADDRESS: stack.temporalAddress,
      TEMPORAL_NAMESPACE: stack.namespace,
      TASK_QUEUE: options.taskQueue,
      DROPBOX_API_URL: stack.emulator.url,
      DROPBOX_PAGE_LIMIT: String(options.pageLimit),
      TOKEN_ENCRYPTION_KEY: stack.tokenKeyHex,
      LOG_LEVEL: 'warn',
      BENCH_BUNDLE: stack.bundlePath,
      BENCH_TUNING: JSON.stringify(options.tuning),
      METRICS_ADDRESS: metricsAddress,
    },
    onOutput: (line) => {
      if (!line.startsWith('@@bench ')) {
        // Warnings (payload size, slow tasks, retried writes) go to stderr; only the first few.
        if (!line.trim()) return;
        otherLines += 1;
        if (otherLines <= MAX_ECHOED_LINES) process.stderr.write(`[worker] ${line}\n`);
        return;
      }
      const message = JSON.parse(line.slice('@@bench '.length)) as { type: string } & WorkerCounters;
      if (message.type === 'ready') ready();
      if (message.type === 'mainThread') mainThread.push({ at: Date.now(), sample: message as unknown as MainThreadSample });
      if (message.type === 'counters') {
        latest = {
          commands: message.commands,
          ...(message.commandMs ? { commandMs: message.commandMs } : {}),
          docsWritten: message.docsWritten,
          activities: message.activities,
          ...(message.cache ? { cache: message.cache } : {}),
        };
        received = Date.now();
      }
    },
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error('the bench worker did not start');
  const failed = child.exited.then(() => {
    throw new Error(`the bench worker exited before it was ready:\n${child.outputTail()}`);
  });
  await Promise.race([isReady, failed]);
  failed.catch(() => undefined);

  let sampledPeak = 0;
  const sampler = setInterval(() => {
    const mem = processMemoryMiB(pid);
    if (mem) sampledPeak = Math.max(sampledPeak, mem.rss);
  }, 1_000);

  return {
    pid,
    counters: () => latest,
    async freshCounters() {
      const asked = Date.now();
      // Counters are sent every 250 ms when they changed; a quiet worker sends none, so after
      // a second without news the latest ones are current.
      while (received <= asked && Date.now() - asked < 1_000) await new Promise((r) => setTimeout(r, 50));
      return latest;
    },
    memory() {
      const mem = processMemoryMiB(pid);
      return {
        rssMiB: mem?.rss ?? NaN,
        peakMiB: mem?.peak ?? NaN,
        sampledPeakMiB: Math.max(sampledPeak, mem?.rss ?? 0),
      };
    },
    metrics: () => scrape(metricsAddress),
    mainThreadBetween: (from, to) => mainThread.filter((m) => m.at >= from && m.at < to).map((m) => m.sample),
    async stop() {
      clearInterval(sampler);
      await child.stop(20_000);
      if (otherLines > MAX_ECHOED_LINES) {
        process.stderr.write(
          `[worker] (${otherLines - MAX_ECHOED_LINES} more lines of worker output not shown)\n`,
        );
      }
    },
  };
}

/** b − a for each counter. */
export function counterDelta(a: WorkerCounters, b: WorkerCounters): WorkerCounters {
  const commands: Record<string, number> = {};
  for (const [name, n] of Object.entries(b.commands)) {
    const d = n - (a.commands[name] ?? 0);
    if (d !== 0) commands[name] = d;
  }
  const activities: WorkerCounters['activities'] = {};
  for (const [name, v] of Object.entries(b.activities)) {
    const before = a.activities[name] ?? { count: 0, failed: 0, ms: 0 };
    if (v.count !== before.count) {
      activities[name] = {
        count: v.count - before.count,
        failed: v.failed - before.failed,
        ms: v.ms - before.ms,
      };
    }
  }
  const commandMs: Record<string, number> = {};
  for (const [name, ms] of Object.entries(b.commandMs ?? {})) {
    const d = ms - (a.commandMs?.[name] ?? 0);
    if (d !== 0) commandMs[name] = Math.round(d);
  }
  return { commands, commandMs, docsWritten: b.docsWritten - a.docsWritten, activities };
}
