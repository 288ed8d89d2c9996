/**
 * The product over servers of its own that a fault test may stop, kill and start again:
 * FerretDB (data in a temp dir) and a Temporal dev server with a database file, each restarted
 * on the same port and data; the Dropbox emulator; and the worker as a child process, run the
 * way production runs it (`src/worker.ts` reading its environment), so it can be SIGKILLed.
 * Connections and mappings are made through the repositories and workflows are started through
 * the API's own `createSyncWorkflows`, with the contract's id `folder-sync-<mappingId>`.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import type { Db, MongoClient } from 'mongodb';
import { createSyncWorkflows, type MappingCommand, type SyncWorkflows } from '../../../src/api/syncWorkflows';
import { removeQuietly } from '../../../src/dev/atomicInstall';
import { startManagedProcess, type ManagedProcess } from '../../../src/dev/childProcess';
import {
  findFreePort,
  startFerretDb,
  startTemporalDevServer,
  type FerretDbServer,
  type TemporalDevServer,
  type TemporalDevServerOptions,
} from '../../../src/dev/servers';
import { collections, ensureIndexes } from '../../../src/db/collections';
import { connectMongo } from '../../../src/db/mongo';
import { createRepositories, type Repositories } from '../../../src/db/repositories';
import type { Mapping } from '../../../src/domain/types';
import { silentLogger } from '../../../src/log';
import { createTokenCipher } from '../../../src/security/tokenCipher';
import { folderSyncWorkflowId, statusQuery, type FolderSyncStatus } from '../../../src/workflows/definitions';
import { assertFolderRecordedExactly, listFolderTruth, type FolderCheck } from './folderCheck';
import { connectAccount } from '../../support/connectedAccount';
import { startDropboxEmulator, type DropboxEmulator } from '../../../src/dev/dropboxEmulator/index';
import { requireEnv } from '../../support/testEnv';
import { readWorkerConfig } from '../../../src/config';
import { makeVersionCurrent, workerDeploymentVersion } from '../../../src/workerDeployment';

const root = resolve(__dirname, '..', '..', '..');

/** A token that may list but not download: a listing fault test does not copy contents. */
export const METADATA_SCOPES = ['account_info.read', 'files.metadata.read'];

export interface FaultHarnessOptions {
  /** Milliseconds between cycles, passed in each workflow's input as the API does. */
  pollIntervalMs: number;
  /** DROPBOX_PAGE_LIMIT of the worker: smaller pages mean more Dropbox calls and more cursor moves. */
  pageLimit?: number;
  /** Seeds the emulator's fault injection, so a run's injected faults repeat. */
  seed?: number;
}

/** A folder of its own Dropbox account, connected and mapped, its workflow started. */
export interface MappedFolder {
  mapping: Mapping;
  accountId: string;
  path: string;
  /** The token the connection holds now. */
  readonly token: string;
  handle: WorkflowHandle;
  /** Seals `next` into the connection, as PUT .../connections/:c/token does. */
  replaceToken(next: string): Promise<void>;
  /** Live (not deleted) file records of the mapping. */
  liveCount(): Promise<number>;
  /** The exact check against what Dropbox lists now: every file once, newest rev, nothing else. */
  checkRecorded(): Promise<FolderCheck>;
  status(): Promise<FolderSyncStatus>;
  /** Signals the workflow as the API does (signal-with-start). */
  signal(command: MappingCommand): Promise<void>;
  /** Waits until at least `cycles` cycles have ended and the workflow waits for the next one. */
  waitForCycles(cycles: number, timeoutMs: number): Promise<FolderSyncStatus>;
}

export interface WorkerProcess {
  /** Spawns `src/worker.ts` and waits until it polls its task queue. */
  start(): Promise<void>;
  /** SIGKILL: no shutdown; in-flight activities and workflow tasks are cut off. */
  kill(): Promise<void>;
  /** SIGTERM and wait: a graceful stop. */
  stop(): Promise<void>;
  running(): boolean;
  /** How many times it was started. */
  starts(): number;
  output(): string;
}

export interface FaultHarness {
  emulator: DropboxEmulator;
  db: Db;
  repos: Repositories;
  temporal: Client;
  taskQueue: string;
  syncWorkflows: SyncWorkflows;
  worker: WorkerProcess;
  ferretDb: { readonly uri: string; stop(): Promise<void>; start(): Promise<void> };
  temporalServer: { readonly address: string; stop(): Promise<void>; start(): Promise<void> };
  /**
   * A new account with `path` in it (filled by `fill`), connected and mapped; the workflow
   * started, polling every `pollIntervalMs` (the harness's by default). The token may read file
   * metadata only unless `contents` is set: a listing fault test would otherwise also copy its
   * thousands of files' bytes, and wait for that copy before continuing as new.
   */
  mapFolder(
    path: string,
    fill?: (accountId: string) => void,
    options?: { pollIntervalMs?: number; contents?: boolean },
  ): Promise<MappedFolder>;
  close(): Promise<void>;
}

export async function startFaultHarness(options: FaultHarnessOptions): Promise<FaultHarness> {
  const cleanups: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  };
  try {
    return await start(options, cleanups, close);
  } catch (err) {
    await close();
    throw err;
  }
}

async function start(
  options: FaultHarnessOptions,
  cleanups: (() => Promise<void>)[],
  close: () => Promise<void>,
): Promise<FaultHarness> {
  const dataDir = await mkdtemp(join(tmpdir(), 'dfs-faults-'));
  cleanups.push(() => removeQuietly(dataDir));

  // FerretDB: stopped and started again on the same port and data directory.
  const ferretOptions = {
    binPath: requireEnv('FERRETDB_PATH'),
    dataDir: join(dataDir, 'ferretdb'),
    port: await findFreePort(),
  };
  let ferret: FerretDbServer | undefined = await startFerretDb(ferretOptions);
  cleanups.push(async () => ferret?.stop());
  const ferretDb = {
    uri: ferret.uri,
    async stop() {
      await ferret?.stop();
      ferret = undefined;
    },
    async start() {
      ferret = await startFerretDb(ferretOptions);
    },
  };

  // Temporal: a database file, so a restart on the same port finds every workflow again.
  const temporalOptions: TemporalDevServerOptions = {
    cliPath: requireEnv('TEMPORAL_CLI_PATH'),
    dbFile: join(dataDir, 'temporal.db'),
    port: await findFreePort(),
    headless: true,
  };
  let devServer: TemporalDevServer | undefined = await startTemporalDevServer(temporalOptions);
  cleanups.push(async () => devServer?.stop());
  const temporalServer = {
    address: devServer.address,
    async stop() {
      await devServer?.stop();
      devServer = undefined;
    },
    async start() {
      devServer = await startTemporalDevServer(temporalOptions);
    },
  };

  const emulator = await startDropboxEmulator({ seed: options.seed ?? 11 });
  cleanups.push(() => emulator.close());

  const mongoUri = new URL('dfs_faults', ferret.uri).toString();
  const mongo: { client: MongoClient; db: Db } = await connectMongo(mongoUri);
  cleanups.push(() => mongo.client.close());
  await ensureIndexes(mongo.db);
  const repos = createRepositories(mongo.db);

  const connection = await Connection.connect({ address: temporalServer.address });
  cleanups.push(() => connection.close());
  const temporal = new Client({ connection });
  const taskQueue = `faults-${randomBytes(4).toString('hex')}`;
  const syncWorkflows = createSyncWorkflows({
    client: temporal,
    taskQueue,
    pollIntervalMs: options.pollIntervalMs,
    log: silentLogger,
  });

  const key = randomBytes(32);
  const cipher = createTokenCipher(key);
  const workerEnv: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    MONGODB_URI: mongoUri,
    TEMPORAL_ADDRESS: temporalServer.address,
    TASK_QUEUE: taskQueue,
    DROPBOX_API_URL: emulator.url,
    DROPBOX_PAGE_LIMIT: String(options.pageLimit ?? 2000),
    TOKEN_ENCRYPTION_KEY: key.toString('hex'),
    POLL_INTERVAL: String(options.pollIntervalMs),
    // Info adds only the worker's "started" and "stopped" lines, which tell when it is up.
    LOG_LEVEL: 'info',
  };
  // The worker's build is the deployment's current version, so the mappings' tasks reach it.
  const version = workerDeploymentVersion(readWorkerConfig(workerEnv));
  const worker = workerProcess(workerEnv, () => makeVersionCurrent(connection.workflowService, 'default', version));
  cleanups.push(() => worker.stop());

  // The mappings' organization has the Dropbox feature: a cycle without it touches nothing.
  const org = await repos.orgs.create({ name: 'Fault Construction', features: { dropbox: true } });
  const { _id: projectId } = await repos.projects.create({ orgId: org._id, name: 'Fault site' });
  const { files } = collections(mongo.db);
  let accounts = 0;

  return {
    emulator,
    db: mongo.db,
    repos,
    temporal,
    taskQueue,
    syncWorkflows,
    worker,
    ferretDb,
    temporalServer,
    async mapFolder(path, fill, mapOptions = {}) {
      accounts += 1;
      const account = await connectAccount({ emulator, repos, cipher }, projectId, {
        email: `site-${accounts}-${randomBytes(3).toString('hex')}@example.com`,
        accountType: 'pro',
      }, mapOptions.contents ? undefined : { scopes: METADATA_SCOPES });
      const { accountId } = account;
      emulator.addFolder(accountId, path);
      fill?.(accountId);
      const mapping = await repos.mappings.create({
        projectId,
        connectionId: account.connection._id,
        dropboxPath: path,
        targetFolder: '/',
      });
      const workflows =
        mapOptions.pollIntervalMs === undefined
          ? syncWorkflows
          : createSyncWorkflows({
              client: temporal,
              taskQueue,
              pollIntervalMs: mapOptions.pollIntervalMs,
              log: silentLogger,
            });
      await workflows.start(mapping);
      const handle = temporal.workflow.getHandle(folderSyncWorkflowId(mapping._id));
      return {
        mapping,
        accountId,
        path,
        get token() {
          return account.token;
        },
        handle,
        replaceToken: (next) => account.replaceToken(next),
        liveCount: () => files.countDocuments({ mappingId: mapping._id, deletedAt: null }),
        checkRecorded: async () =>
          assertFolderRecordedExactly(
            mongo.db,
            mapping._id,
            await listFolderTruth(emulator.url, account.token, path),
          ),
        status: () => handle.query(statusQuery),
        signal: (command) => workflows.signal(mapping, command),
        async waitForCycles(cycles, timeoutMs) {
          let status: FolderSyncStatus | undefined;
          try {
            await waitUntil(
              async () => {
                status = await handle.query(statusQuery).catch(() => undefined);
                return status !== undefined && status.counters.cycles >= cycles && status.phase === 'waiting';
              },
              timeoutMs,
              `cycle ${cycles} of ${path} to end`,
              250,
            );
          } catch (err) {
            // What the workflow was doing, for the failure message.
            const pending = await handle
              .describe()
              .then((d) => JSON.stringify(d.raw.pendingActivities ?? []))
              .catch((e: unknown) => String(e));
            throw new Error(
              `${(err as Error).message}; status ${JSON.stringify(status)}; pending activities ${pending}; ` +
                `worker output:\n${worker.output().split('\n').slice(-30).join('\n')}`,
            );
          }
          return status!;
        },
      };
    },
    close,
  };
}

function workerProcess(env: NodeJS.ProcessEnv, afterStart: () => Promise<void>): WorkerProcess {
  let child: ManagedProcess | undefined;
  let output = '';
  let starts = 0;
  return {
    async start() {
      if (child && !child.hasExited()) throw new Error('the worker is already running');
      starts += 1;
      let ready!: () => void;
      const started = new Promise<void>((done) => (ready = done));
      const current = startManagedProcess({
        name: 'worker',
        file: process.execPath,
        args: ['--import', 'tsx', 'src/worker.ts'],
        cwd: root,
        env,
        onOutput: (line) => {
          output += `${line}\n`;
          if (line.includes('"worker started"')) ready();
        },
      });
      child = current;
      let isStarted = false;
      const exited = current.exited.then(({ code, signal }) => {
        if (isStarted) return;
        throw new Error(
          `the worker exited before it started (code ${String(code)}, signal ${String(signal)}):\n${current.outputTail()}`,
        );
      });
      // Only a start that fails counts; a later exit (a kill) is expected.
      exited.catch(() => undefined);
      await Promise.race([started, exited]);
      isStarted = true;
      await afterStart();
    },
    async kill() {
      await child?.stop(0);
    },
    async stop() {
      await child?.stop(10_000);
    },
    running: () => child !== undefined && !child.hasExited(),
    starts: () => starts,
    output: () => output,
  };
}

/** Runs `check` until it passes or `timeoutMs` is up; slow servers need long polls here. */
export async function waitUntil(
  check: () => Promise<boolean> | boolean,
  timeoutMs: number,
  what: string,
  everyMs = 250,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((done) => setTimeout(done, everyMs));
  }
}

/** Seconds since `since`, for the figures. */
export function secondsSince(since: number): string {
  return ((Date.now() - since) / 1000).toFixed(1);
}
