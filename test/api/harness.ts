/**
 * The API over real servers for end-to-end tests: FerretDB (a database of its own), the Temporal
 * dev server (a task queue of its own), the Dropbox emulator, and optionally a worker in-process.
 * Everything the API sends back and every log line is kept, for tests that look for secrets.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { answerClientErrors } from '../../src/api/clientErrors';
import type { AddressInfo } from 'node:net';
import type { Client } from '@temporalio/client';
import type { Db, MongoClient } from 'mongodb';
import { createApp, type AppDeps } from '../../src/api/app';
import { readinessOf } from '../../src/api/readiness';
import { createSyncWorkflows } from '../../src/api/syncWorkflows';
import { dropboxAppSecrets } from '../../src/api/webhookRouter';
import { readWorkerConfig } from '../../src/config';
import { ensureIndexes } from '../../src/db/collections';
import { connectMongo } from '../../src/db/mongo';
import { createRepositories } from '../../src/db/repositories';
import { createPathPolicy } from '../../src/domain/pathPolicy';
import { createDropboxClient } from '../../src/dropbox/client';
import { createCredentialsProvider } from '../../src/dropbox/credentials/credentialsProvider';
import { OAUTH_CALLBACK_PATH } from '../../src/api/oauthRouter';
import { createLogger } from '../../src/log';
import { createTokenCipher } from '../../src/security/tokenCipher';
import { createContentLinks } from '../../src/security/contentLinks';
import { connectTemporalWorker, createActivityDeps, createSyncWorker } from '../../src/worker';
import { makeVersionCurrent } from '../../src/workerDeployment';
import { type DropboxEmulator, startDropboxEmulator } from '../../src/dev/dropboxEmulator/index';
import { connectDevServer, type DevServerClient } from '../support/servers';
import { requireEnv, uniqueDbName } from '../support/testEnv';

export interface ApiAnswer {
  status: number;
  headers: Headers;
  /** Parsed JSON, or undefined for an empty answer. */
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- tests read answers freely
  text: string;
}

export interface CallOptions {
  key?: string | null;
  body?: unknown;
  /** Sent as it is, e.g. malformed JSON. */
  rawBody?: string;
  headers?: Record<string, string>;
  /** Another app started with serve(); the harness's own app otherwise. */
  baseUrl?: string;
}

export interface ApiHarness {
  url: string;
  rootKey: string;
  emulator: DropboxEmulator;
  temporal: Client;
  taskQueue: string;
  db: Db;
  deps: AppDeps;
  /** DROPBOX_APP_SECRET of the API: webhook notifications signed with it are Dropbox's. */
  appSecret: string;
  /** The service's own Dropbox app ("Connect with Dropbox"), registered in the emulator. */
  serviceApp: { appKey: string; appSecret: string };
  /** Every log line of the API and the worker. */
  logLines: string[];
  /** Every answer body the API sent. */
  answers: string[];
  call(method: string, path: string, options?: CallOptions): Promise<ApiAnswer>;
  /** Serves another app (e.g. over other dependencies) until close(); returns its URL. */
  serve(deps: AppDeps): Promise<string>;
  /** Stops the worker and starts another with these settings beside the harness's (MAX_FILE_BYTES, …). */
  restartWorker(settings: Record<string, string>): Promise<void>;
  close(): Promise<void>;
}

/** The app key the harness's API knows as its own; the secret is `ApiHarness.appSecret`. */
export const HARNESS_APP_KEY = 'harness-app';

export interface HarnessOptions {
  /** Run a worker in-process (bundling workflows takes a few seconds). */
  worker?: boolean;
  pollIntervalMs?: number;
  /** MAX_FILE_BYTES of the worker (default the product's). */
  maxFileBytes?: number;
}

/** MONGODB_URI with its database replaced by `name`, so every suite has a database of its own. */
function uriWithDatabase(uri: string, name: string): string {
  const url = new URL(uri);
  url.pathname = `/${name}`;
  return url.toString();
}

async function listenOnFreePort(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export async function startApiHarness(options: HarnessOptions = {}): Promise<ApiHarness> {
  const baseMongoUri = requireEnv('MONGODB_URI');
  const temporalAddress = requireEnv('TEMPORAL_ADDRESS');
  // Undone in reverse order by close(), or at once when the start itself fails half-way.
  const cleanups: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  };
  try {
    return await start(options, baseMongoUri, temporalAddress, cleanups, close);
  } catch (err) {
    await close();
    throw err;
  }
}

async function start(
  options: HarnessOptions,
  baseMongoUri: string,
  temporalAddress: string,
  cleanups: (() => Promise<void>)[],
  close: () => Promise<void>,
): Promise<ApiHarness> {
  const logLines: string[] = [];
  const answers: string[] = [];
  const log = createLogger({ level: 'debug', write: (line) => logLines.push(line) });
  const rootKey = `root-${randomBytes(24).toString('hex')}`;
  const taskQueue = `api-test-${randomBytes(6).toString('hex')}`;
  const pollIntervalMs = options.pollIntervalMs ?? 10 * 60_000;
  const appSecret = randomBytes(32).toString('hex');

  const emulator = await startDropboxEmulator();
  cleanups.push(() => emulator.close());
  const mongoUri = uriWithDatabase(baseMongoUri, uniqueDbName('api'));
  const mongo: { client: MongoClient; db: Db } = await connectMongo(mongoUri);
  cleanups.push(async () => {
    await mongo.db.dropDatabase().catch(() => undefined);
    await mongo.client.close();
  });
  await ensureIndexes(mongo.db);
  const temporal: DevServerClient = await connectDevServer();
  cleanups.push(() => temporal.close());
  const workerEnv: Record<string, string> = {
    MONGODB_URI: mongoUri,
    TEMPORAL_ADDRESS: temporalAddress,
    TEMPORAL_NAMESPACE: temporal.namespace,
    TASK_QUEUE: taskQueue,
    POLL_INTERVAL: String(pollIntervalMs),
    DROPBOX_API_URL: emulator.url,
    TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
    DROPBOX_APP_KEY: HARNESS_APP_KEY,
    DROPBOX_APP_SECRET: appSecret,
    ...(options.maxFileBytes === undefined ? {} : { MAX_FILE_BYTES: String(options.maxFileBytes) }),
  };
  const config = readWorkerConfig(workerEnv);

  const repos = createRepositories(mongo.db);
  const dropbox = createDropboxClient({ apiUrl: emulator.url, requestTimeoutMs: 5_000 });
  const cipher = createTokenCipher(config.tokenEncryptionKey);
  // Its redirect URI is known once the API listens, below.
  const serviceApp = emulator.registerApp({ appKey: HARNESS_APP_KEY, appSecret, redirectUris: [] });
  const deps: AppDeps = {
    repos,
    dropbox,
    syncWorkflows: createSyncWorkflows({ client: temporal.client, taskQueue, pollIntervalMs, log }),
    cipher,
    credentials: createCredentialsProvider({ store: repos, tokens: dropbox, cipher }),
    pathPolicy: createPathPolicy(config.specialCharacters),
    config: { rootApiKey: rootKey, dropbox: { appKey: serviceApp.appKey, appSecret, oauthUrl: emulator.url } },
    log,
    readiness: readinessOf(mongo.db, temporal.client),
    dropboxApps: dropboxAppSecrets({ config, connections: repos.connections, cipher }),
    contentLinks: createContentLinks(config.tokenEncryptionKey),
  };

  let stopWorker = async () => {};
  const startWorker = async (env: Record<string, string>) => {
    const workerConfig = readWorkerConfig(env);
    const connection = await connectTemporalWorker(workerConfig);
    const worker = await createSyncWorker({
      config: workerConfig,
      connection,
      deps: createActivityDeps(workerConfig, mongo.db, log),
      tuning: { shutdownGraceTime: '1s' },
    });
    const running = worker.run();
    // Awaited by the cleanup; until then a failure must not count as unhandled.
    running.catch(() => undefined);
    stopWorker = async () => {
      stopWorker = async () => {};
      worker.shutdown();
      await running;
      await connection.close();
    };
    await makeVersionCurrent(connection.workflowService, workerConfig.temporal.namespace, worker.version);
  };
  if (options.worker) {
    await startWorker(workerEnv);
    cleanups.push(() => stopWorker());
  }
  const restartWorker = async (settings: Record<string, string>) => {
    if (!options.worker) throw new Error('the harness runs no worker');
    await stopWorker();
    await startWorker({ ...workerEnv, ...settings });
  };
  // Before the worker stops: its workflows would otherwise wait on the dev server for ever.
  cleanups.push(() => terminateRunning(temporal.client, taskQueue));

  const servers: Server[] = [];
  cleanups.push(async () => {
    for (const server of servers) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
  const serve = async (appDeps: AppDeps) => {
    const server = createServer(createApp(appDeps));
    answerClientErrors(server);
    servers.push(server);
    return listenOnFreePort(server);
  };
  const url = await serve(deps);
  deps.config.publicUrl = url;
  emulator.registerApp({ ...serviceApp, redirectUris: [`${url}${OAUTH_CALLBACK_PATH}`] });

  const call = async (method: string, path: string, o: CallOptions = {}): Promise<ApiAnswer> => {
    const headers: Record<string, string> = { ...o.headers };
    if (o.key !== null && o.key !== undefined) headers.authorization = `Bearer ${o.key}`;
    let payload: string | undefined;
    if (o.rawBody !== undefined) payload = o.rawBody;
    else if (o.body !== undefined) payload = JSON.stringify(o.body);
    if (payload !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) {
      headers['content-type'] = 'application/json';
    }
    const res = await fetch(`${o.baseUrl ?? url}${path}`, {
      method,
      headers,
      ...(payload !== undefined ? { body: payload } : {}),
    });
    const text = await res.text();
    answers.push(text);
    return {
      status: res.status,
      headers: res.headers,
      text,
      body: text ? (JSON.parse(text) as unknown) : undefined,
    };
  };

  return {
    url,
    rootKey,
    emulator,
    temporal: temporal.client,
    taskQueue,
    db: mongo.db,
    deps,
    appSecret,
    serviceApp,
    logLines,
    answers,
    call,
    serve,
    restartWorker,
    close,
  };
}

/** Workflows left running by a suite would poll forever on the dev server; end them. */
async function terminateRunning(client: Client, taskQueue: string): Promise<void> {
  const query = `TaskQueue = "${taskQueue}" AND ExecutionStatus = "Running"`;
  for await (const info of client.workflow.list({ query })) {
    await client.workflow
      .getHandle(info.workflowId, info.runId)
      .terminate('test suite finished')
      .catch(() => undefined);
  }
}
