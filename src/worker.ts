import { existsSync } from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode, NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from './activities';
import { readWorkerConfig, type WorkerConfig } from './config';
import { ensureIndexes } from './db/collections';
import { connectMongo } from './db/mongo';
import { createRepositories } from './db/repositories';
import { createPathPolicy } from './domain/pathPolicy';
import { createDropboxClient } from './dropbox/client';
import { createCredentialsProvider } from './dropbox/credentials/credentialsProvider';
import { cycleReportSinks } from './cycleReportSinks';
import { createLogger, type Logger } from './log';
import { createTokenCipher } from './security/tokenCipher';
import { sdkLogger } from './temporalLog';
import { installWorkerRuntime } from './workerRuntime';
import { workflowBundleOptions } from './workflowBundle';
import { workerDeploymentOptions, workerDeploymentVersion } from './workerDeployment';
import type { Db } from 'mongodb';
import type { WorkerDeploymentVersion } from '@temporalio/common';

/** A prebuilt bundle (from `npm run build`) starts faster and is what production runs. */
const PREBUILT_BUNDLE = path.resolve(__dirname, '../workflow-bundle.js');

export async function workflowSource(log: Logger): Promise<Pick<WorkerOptions, 'workflowBundle'>> {
  // Only the compiled worker (dist/) uses it: from source, a stale bundle must never shadow the code.
  if (__filename.endsWith('.js') && existsSync(PREBUILT_BUNDLE)) return { workflowBundle: { codePath: PREBUILT_BUNDLE } };
  // Bundled here rather than through `workflowsPath` so that webpack's report goes to debug lines.
  const { code } = await bundleWorkflowCode({
    ...workflowBundleOptions(),
    logger: sdkLogger(log, 'debug', { quietInfo: true }),
  });
  return { workflowBundle: { code } };
}

export function createActivityDeps(config: WorkerConfig, db: Db, log: Logger): ActivityDeps {
  const cipher = createTokenCipher(config.tokenEncryptionKey);
  const repos = createRepositories(db);
  const dropbox = createDropboxClient({ apiUrl: config.dropbox.apiUrl });
  return {
    repos,
    dropbox,
    credentials: createCredentialsProvider({ store: repos, tokens: dropbox, cipher }),
    pathPolicy: createPathPolicy(config.specialCharacters),
    pageLimit: config.dropbox.pageLimit,
    contentConcurrency: config.contents.concurrency,
    maxFileBytes: config.contents.maxFileBytes,
    log,
  };
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
    sinks: cycleReportSinks(options.deps.log),
    ...(options.tuning?.workflowBundle ? {} : await workflowSource(options.deps.log)),
    workerDeploymentOptions: workerDeploymentOptions(workerDeploymentVersion(options.config)),
    // A mapping whose workflow is not cached replays its whole history every cycle: with more
    // mappings per worker than this, every cycle is a replay (see BENCHMARKS.md).
    ...(options.config.workflowCacheSize ? { maxCachedWorkflows: options.config.workflowCacheSize } : {}),
    ...options.tuning,
  });
}

export interface RunningWorker {
  worker: Worker;
  /** The deployment version it runs as; someone makes it current (README, rollouts). */
  version: WorkerDeploymentVersion;
  /** Resolves once the worker has stopped and its connections are closed. */
  done: Promise<void>;
}

/** Connects to MongoDB and Temporal and runs the worker until it is shut down. */
export async function startWorker(config: WorkerConfig, log: Logger): Promise<RunningWorker> {
  const { client, db } = await connectMongo(config.mongodbUri);
  await ensureIndexes(db);
  const connection = await connectTemporalWorker(config);
  const worker = await createSyncWorker({ config, connection, deps: createActivityDeps(config, db, log) });
  const { deploymentName, buildId } = worker.options.workerDeploymentOptions!.version;
  log.info('worker started', {
    taskQueue: config.taskQueue,
    deploymentName,
    buildId,
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
  return { worker, version: { deploymentName, buildId }, done };
}

async function main(): Promise<void> {
  const config = readWorkerConfig();
  const log = createLogger({ level: config.logLevel, fields: { service: 'worker' } });
  // Once per process, before the first connection creates the runtime with the defaults.
  await installWorkerRuntime(config, log);
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
