import { existsSync } from 'node:fs';
import path from 'node:path';
import { NativeConnection, Runtime, Worker, type RuntimeOptions, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from './activities';
import { readWorkerConfig, type WorkerConfig } from './config';
import { ensureIndexes } from './db/collections';
import { connectMongo } from './db/mongo';
import { createRepositories } from './db/repositories';
import { createPathPolicy } from './domain/pathPolicy';
import { createDropboxClient } from './dropbox/client';
import { createLogger, type Logger } from './log';
import { createTokenCipher } from './security/tokenCipher';
import { workflowBundleOptions } from './workflowBundle';
import type { Db } from 'mongodb';

/** A prebuilt bundle (from `npm run build`) starts faster and is what production runs. */
const PREBUILT_BUNDLE = path.resolve(__dirname, '../workflow-bundle.js');

export function workflowSource(): Pick<WorkerOptions, 'workflowsPath' | 'workflowBundle' | 'bundlerOptions'> {
  // Only the compiled worker (dist/) uses it: from source, a stale bundle must never shadow the code.
  if (__filename.endsWith('.js') && existsSync(PREBUILT_BUNDLE)) return { workflowBundle: { codePath: PREBUILT_BUNDLE } };
  const { workflowsPath, preloadModules } = workflowBundleOptions();
  return { workflowsPath, bundlerOptions: { preloadModules } };
}

export function createActivityDeps(config: WorkerConfig, db: Db, log: Logger): ActivityDeps {
  const cipher = createTokenCipher(config.tokenEncryptionKey);
  return {
    repos: createRepositories(db),
    dropbox: createDropboxClient({ apiUrl: config.dropbox.apiUrl }),
    openToken: (sealed) => cipher.open(sealed),
    pathPolicy: createPathPolicy(config.specialCharacters),
    pageLimit: config.dropbox.pageLimit,
    heldEntries: config.heldListingEntries,
    contentConcurrency: config.contents.concurrency,
    maxFileBytes: config.contents.maxFileBytes,
    log,
  };
}

/**
 * The SDK's runtime for a worker process: with METRICS_ADDRESS, Prometheus scrapes the worker's
 * task slots, poll and schedule-to-start latencies and cache size there (what shows a worker
 * falling behind before its cycles do).
 */
export function workerRuntimeOptions(config: Pick<WorkerConfig, 'metricsAddress'>): RuntimeOptions {
  if (!config.metricsAddress) return {};
  return { telemetryOptions: { metrics: { prometheus: { bindAddress: config.metricsAddress } } } };
}

export async function connectTemporalWorker(config: WorkerConfig): Promise<NativeConnection> {
  return NativeConnection.connect({
    address: config.temporal.address,
    ...(config.temporal.tls ? { tls: true } : {}),
    ...(config.temporal.apiKey ? { apiKey: config.temporal.apiKey } : {}),
  });
}

export async function createSyncWorker(options: {
  config: WorkerConfig;
  connection: NativeConnection;
  deps: ActivityDeps;
  tuning?: Partial<WorkerOptions>;
}): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.config.temporal.namespace,
    taskQueue: options.config.taskQueue,
    activities: createActivities(options.deps),
    ...workflowSource(),
    // A mapping whose workflow is not cached replays its whole history every cycle: with more
    // mappings per worker than this, every cycle is a replay (see BENCHMARKS.md).
    ...(options.config.workflowCacheSize ? { maxCachedWorkflows: options.config.workflowCacheSize } : {}),
    ...options.tuning,
  });
}

export interface RunningWorker {
  worker: Worker;
  /** Resolves once the worker has stopped and its connections are closed. */
  done: Promise<void>;
}

/** Connects to MongoDB and Temporal and runs the worker until it is shut down. */
export async function startWorker(config: WorkerConfig, log: Logger): Promise<RunningWorker> {
  const { client, db } = await connectMongo(config.mongodbUri);
  await ensureIndexes(db);
  const connection = await connectTemporalWorker(config);
  const worker = await createSyncWorker({ config, connection, deps: createActivityDeps(config, db, log) });
  log.info('worker started', {
    taskQueue: config.taskQueue,
    namespace: config.temporal.namespace,
    ...(config.metricsAddress ? { metrics: `http://${config.metricsAddress}/metrics` } : {}),
  });
  const done = (async () => {
    try {
      await worker.run();
    } finally {
      await Promise.allSettled([connection.close(), client.close()]);
      log.info('worker stopped');
    }
  })();
  return { worker, done };
}

async function main(): Promise<void> {
  const config = readWorkerConfig();
  const log = createLogger({ level: config.logLevel, fields: { service: 'worker' } });
  // Once per process, before the first connection creates the runtime with the defaults.
  Runtime.install(workerRuntimeOptions(config));
  // The SDK's runtime stops the worker on SIGINT/SIGTERM; run() resolves once in-flight tasks end.
  const { done } = await startWorker(config, log);
  await done;
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`worker failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
