/**
 * The worker a bench scenario measures, as its own process (so its CPU and memory are its own):
 * the product's createSyncWorker and createActivityDeps over the environment's config, plus
 * counters the parent reads from stdout lines that start with "@@bench ":
 *   - every MongoDB command the activities send, by name, and the documents written (from the
 *     server's replies: inserted n, updated nModified + upserted, deleted n);
 *   - every activity execution (local ones too), by type, with its total time;
 *   - each second, the main thread's event-loop delay and GC pauses (local activities and the
 *     SDK's task plumbing run there, so its pauses delay every workflow task).
 * Env: the worker's own variables (METRICS_ADDRESS serves the SDK's metrics), BENCH_BUNDLE
 * (prebuilt workflow bundle), BENCH_TUNING (JSON WorkerOptions).
 */
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { Context } from '@temporalio/activity';
import type { ActivityExecuteInput, ActivityInboundCallsInterceptor, Next } from '@temporalio/worker';
import type { WorkerOptions } from '@temporalio/worker';
import { readWorkerConfig } from '../src/config';
import { connectMongo } from '../src/db/mongo';
import { createLogger } from '../src/log';
import { connectTemporalWorker, createActivityDeps, createSyncWorker } from '../src/worker';
import { makeVersionCurrent } from '../src/workerDeployment';
import { installWorkerRuntime } from '../src/workerRuntime';

export interface WorkerCounters {
  commands: Record<string, number>;
  /** Total time of those commands, by name, in ms (the driver's round trip). */
  commandMs?: Record<string, number>;
  docsWritten: number;
  /** Executions by activity type (local ones too): attempts, failed attempts, total time. */
  activities: Record<string, { count: number; failed: number; ms: number }>;
  /** Workflows in the worker's cache against its capacity, and the JS heap (MiB) behind the RSS. */
  cache?: {
    workflows: number;
    capacity: number;
    heapUsedMiB: number;
    peakHeapUsedMiB: number;
    heapTotalMiB: number;
    externalMiB: number;
  };
}

/** One second of the main thread: event-loop delay (p99, max) and time paused for GC. */
export interface MainThreadSample {
  loopP99Ms: number;
  loopMaxMs: number;
  gcMs: number;
  gcMaxMs: number;
}

const counters: WorkerCounters = { commands: {}, commandMs: {}, docsWritten: 0, activities: {} };
const MiB = 1024 * 1024;
let dirty = true;

function emit(type: string, body: object = {}): void {
  process.stdout.write(`@@bench ${JSON.stringify({ type, ...body })}\n`);
}

function written(commandName: string, reply: Record<string, unknown>): number {
  const n = Number(reply.n ?? 0);
  if (commandName === 'insert' || commandName === 'delete') return n;
  if (commandName === 'update') {
    const upserted = Array.isArray(reply.upserted) ? reply.upserted.length : 0;
    return Number(reply.nModified ?? 0) + upserted;
  }
  if (commandName === 'findAndModify') return (reply.lastErrorObject as { n?: number } | undefined)?.n ?? 0;
  return 0;
}

class TimedActivity implements ActivityInboundCallsInterceptor {
  constructor(private readonly type: string) {}
  async execute(
    input: ActivityExecuteInput,
    next: Next<ActivityInboundCallsInterceptor, 'execute'>,
  ): Promise<unknown> {
    const started = performance.now();
    const entry = (counters.activities[this.type] ??= { count: 0, failed: 0, ms: 0 });
    try {
      return await next(input);
    } catch (err) {
      entry.failed += 1;
      throw err;
    } finally {
      entry.count += 1;
      entry.ms += performance.now() - started;
      dirty = true;
    }
  }
}

async function main(): Promise<void> {
  const config = readWorkerConfig();
  const log = createLogger({ level: 'warn', write: (line) => process.stderr.write(`${line}\n`) });
  await installWorkerRuntime({ ...config, logLevel: 'warn' }, log);
  const { client, db } = await connectMongo(config.mongodbUri, { clientOptions: { monitorCommands: true } });
  client.on('commandSucceeded', (event) => {
    counters.commands[event.commandName] = (counters.commands[event.commandName] ?? 0) + 1;
    const ms = (counters.commandMs ??= {});
    ms[event.commandName] = (ms[event.commandName] ?? 0) + event.duration;
    counters.docsWritten += written(event.commandName, event.reply as Record<string, unknown>);
    dirty = true;
  });
  const connection = await connectTemporalWorker(config);
  const tuning = JSON.parse(process.env.BENCH_TUNING || '{}') as Partial<WorkerOptions>;
  const bundle = process.env.BENCH_BUNDLE;
  const worker = await createSyncWorker({
    config,
    connection,
    deps: createActivityDeps(config, db, log),
    tuning: {
      ...(bundle ? { workflowBundle: { codePath: bundle }, workflowsPath: undefined, bundlerOptions: undefined } : {}),
      interceptors: { activity: [(ctx: Context) => ({ inbound: new TimedActivity(ctx.info.activityType) })] },
      ...tuning,
    },
  });
  let peakHeapUsed = 0;
  const timer = setInterval(() => {
    const { heapUsed, heapTotal, external } = process.memoryUsage();
    peakHeapUsed = Math.max(peakHeapUsed, heapUsed);
    const cache = {
      workflows: worker.cycles.getStatus().numCachedWorkflows,
      capacity: worker.cycles.options.maxCachedWorkflows,
      heapUsedMiB: Math.round(heapUsed / MiB),
      peakHeapUsedMiB: Math.round(peakHeapUsed / MiB),
      heapTotalMiB: Math.round(heapTotal / MiB),
      externalMiB: Math.round(external / MiB),
    };
    if (cache.workflows !== counters.cache?.workflows || cache.heapUsedMiB !== counters.cache.heapUsedMiB) {
      counters.cache = cache;
      dirty = true;
    }
    if (!dirty) return;
    dirty = false;
    emit('counters', counters);
  }, 250);
  const stopSampling = sampleMainThread();
  const running = worker.run();
  // Ready once this build is the deployment's current version (the same build for every bench worker).
  await makeVersionCurrent(connection.workflowService, config.temporal.namespace, worker.version);
  emit('ready');
  try {
    await running;
  } finally {
    clearInterval(timer);
    stopSampling();
    emit('counters', counters);
    await Promise.allSettled([connection.close(), client.close()]);
  }
}

function sampleMainThread(): () => void {
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  let gcMs = 0;
  let gcMaxMs = 0;
  const gc = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      gcMs += entry.duration;
      gcMaxMs = Math.max(gcMaxMs, entry.duration);
    }
  });
  gc.observe({ entryTypes: ['gc'] });
  const ms = (ns: number) => Math.round(ns / 1e5) / 10;
  const timer = setInterval(() => {
    const sample: MainThreadSample = {
      loopP99Ms: ms(loop.percentile(99)),
      loopMaxMs: ms(loop.max),
      gcMs: Math.round(gcMs),
      gcMaxMs: Math.round(gcMaxMs),
    };
    loop.reset();
    gcMs = 0;
    gcMaxMs = 0;
    emit('mainThread', sample);
  }, 1_000);
  return () => {
    clearInterval(timer);
    gc.disconnect();
    loop.disable();
  };
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(
      `bench worker failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  },
);
