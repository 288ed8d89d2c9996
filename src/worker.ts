import { existsSync } from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode, NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityDeps, type Activities } from './activities';
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
import { contentsTaskQueue } from './domain/taskQueues';
import type { Db, MongoClient, MongoClientOptions } from 'mongodb';
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

/**
 * A worker process's two Temporal workers, under one deployment version: the mapping workflows
 * and their cycles' activities on TASK_QUEUE, the contents copies on a queue of their own
 * (`contentsTaskQueue`), at most CONTENT_CONCURRENCY at once.
 */
export interface SyncWorker {
  cycles: Worker;
  contents: Worker;
  version: WorkerDeploymentVersion;
  /** Runs both until both stop; one that fails stops the other. */
  run(): Promise<void>;
  shutdown(): void;
}

/**
 * The two workers from the cycles worker's options: `copyFileContents` moves to the contents
 * worker, which shares the connection, namespace, deployment version and grace time.
 */
export async function pairWorkers(
  options: Omit<WorkerOptions, 'activities'> & { activities: Pick<Activities, 'copyFileContents'> },
  contentConcurrency: number,
): Promise<SyncWorker> {
  const { copyFileContents, ...cycleActivities } = options.activities;
  const cycles = await Worker.create({ ...options, activities: cycleActivities });
  const contents = await Worker.create({
    ...(options.connection ? { connection: options.connection } : {}),
    ...(options.namespace ? { namespace: options.namespace } : {}),
    ...(options.workerDeploymentOptions ? { workerDeploymentOptions: options.workerDeploymentOptions } : {}),
    ...(options.shutdownGraceTime ? { shutdownGraceTime: options.shutdownGraceTime } : {}),
    ...(options.shutdownForceTime ? { shutdownForceTime: options.shutdownForceTime } : {}),
    taskQueue: contentsTaskQueue(options.taskQueue),
    activities: { copyFileContents },
    // One copy per download slot: a copy takes the slots its files need; the rest wait in the server.
    maxConcurrentActivityTaskExecutions: contentConcurrency,
  });
  const both = [cycles, contents];
  const shutdown = () => {
    for (const worker of both) if (worker.getState() === 'RUNNING') worker.shutdown();
  };
  const run = async () => {
    const settled = await Promise.allSettled(
      both.map((worker) =>
        worker.run().catch((err: unknown) => {
          shutdown();
          throw err;
        }),
      ),
    );
    const failed = settled.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
  };
  return {
    cycles,
    contents,
    // Unversioned workers (the time-skipping tests') have none: an empty name and build id.
    version: options.workerDeploymentOptions?.version ?? { deploymentName: '', buildId: '' },
    run,
    shutdown,
  };
}

export const SHUTDOWN_GRACE_TIME = '25s';
const SHUTDOWN_FORCE_TIME = '28s';

export async function createSyncWorker(options: {
  config: WorkerConfig;
  connection: NativeConnection;
  deps: ActivityDeps;
  tuning?: Partial<WorkerOptions>;
}): Promise<SyncWorker> {
  const { config, connection, deps, tuning } = options;
  return pairWorkers(
    {
      connection,
      namespace: config.temporal.namespace,
      taskQueue: config.taskQueue,
      sinks: cycleReportSinks(deps.log),
      ...(tuning?.workflowBundle ? {} : await workflowSource(deps.log)),
      workerDeploymentOptions: workerDeploymentOptions(workerDeploymentVersion(config)),
      ...workflowCacheOption(config),
      // On SIGTERM, tasks under way get this long to end before they are cancelled (the SDK's
      // default is none: a file's download was cut and begun again elsewhere). Under the 30 s
      // that docker-compose and Kubernetes wait before they kill the process.
      shutdownGraceTime: SHUTDOWN_GRACE_TIME,
      // A task that ignores its cancellation (a write stuck on an unreachable database) must not
      // keep the process up until the orchestrator kills it: the process ends itself first.
      shutdownForceTime: SHUTDOWN_FORCE_TIME,
      ...tuning,
      activities: createActivities(deps),
    },
    config.contents.concurrency,
  );
}

/**
 * WORKFLOW_CACHE_SIZE when set, 0 included (no cache: every task replays). A mapping whose workflow
 * is not cached replays its whole history every cycle: with more mappings per worker than this,
 * every cycle is a replay (see BENCHMARKS.md).
 */
export function workflowCacheOption(config: Pick<WorkerConfig, 'workflowCacheSize'>): { maxCachedWorkflows?: number } {
  return config.workflowCacheSize === undefined ? {} : { maxCachedWorkflows: config.workflowCacheSize };
}

export interface RunningWorker {
  worker: SyncWorker;
  /** The deployment version it runs as; someone makes it current (README, rollouts). */
  version: WorkerDeploymentVersion;
  /** Resolves once the worker has stopped and its connections are closed. */
  done: Promise<void>;
  /** The worker's MongoDB client (a benchmark watches its commands). */
  mongo: MongoClient;
}

/** Connects to MongoDB and Temporal and runs the worker until it is shut down. */
export async function startWorker(
  config: WorkerConfig,
  log: Logger,
  mongoClientOptions?: MongoClientOptions,
): Promise<RunningWorker> {
  const { client, db } = await connectMongo(
    config.mongodbUri,
    mongoClientOptions ? { clientOptions: mongoClientOptions } : {},
  );
  await ensureIndexes(db);
  const connection = await connectTemporalWorker(config);
  const worker = await createSyncWorker({ config, connection, deps: createActivityDeps(config, db, log) });
  const { deploymentName, buildId } = worker.version;
  log.info('worker started', {
    taskQueue: config.taskQueue,
    contentsTaskQueue: contentsTaskQueue(config.taskQueue),
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
  return { worker, version: { deploymentName, buildId }, done, mongo: client };
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
    process.stderr.write(`worker stopped on an error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
