/**
 * The servers a bench run measures against: FerretDB and the Temporal dev server (its own, from
 * the tools cache, unless MONGODB_URI / TEMPORAL_ADDRESS name others), the Dropbox emulator in
 * this process, a Temporal client, and the workflow bundle built once for every worker.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { workflowBundleOptions } from '../src/workflowBundle';
import type { Db, MongoClient } from 'mongodb';
import { removeQuietly } from '../src/dev/atomicInstall';
import { startFerretDb, startTemporalDevServer } from '../src/dev/servers';
import { defaultCacheDir, installTools } from '../src/dev/tools';
import { ensureIndexes } from '../src/db/collections';
import { connectMongo } from '../src/db/mongo';
import { startDropboxEmulator, type DropboxEmulator } from '../src/dev/dropboxEmulator/index';
import type { BenchArgs } from './args';
import { findDescendants } from './machine';

export interface BenchStack {
  mongoUri: string;
  temporalAddress: string;
  namespace: string;
  client: Client;
  emulator: DropboxEmulator;
  /** The prebuilt workflow bundle every bench worker loads. */
  bundlePath: string;
  /** 32 bytes, hex: the workers' TOKEN_ENCRYPTION_KEY. */
  tokenKeyHex: string;
  /** Pids of the servers this run started (undefined when given by the environment). */
  pids: { ferretDb?: number; temporal?: number };
  /** A fresh, indexed database on the bench's FerretDB; dropped by close(). */
  openDb(label: string): Promise<{ db: Db; uri: string; client: MongoClient }>;
  close(): Promise<void>;
}

const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);

function withDatabase(uri: string, name: string): string {
  const url = new URL(uri);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function openStack(serverConfig: BenchArgs['serverConfig'] = {}): Promise<BenchStack> {
  const cleanups: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const cleanup of cleanups.splice(0).reverse())
      await cleanup().catch((err: unknown) => log(String(err)));
  };
  try {
    return await open(cleanups, close, serverConfig);
  } catch (err) {
    await close();
    throw err;
  }
}

async function open(
  cleanups: (() => Promise<void>)[],
  close: () => Promise<void>,
  dynamicConfig: BenchArgs['serverConfig'],
): Promise<BenchStack> {
  const dataDir = await mkdtemp(join(tmpdir(), 'dfs-bench-'));
  cleanups.push(() => removeQuietly(dataDir));
  const pids: BenchStack['pids'] = {};

  let mongoUri = process.env.MONGODB_URI;
  let temporalAddress = process.env.TEMPORAL_ADDRESS;
  if (!mongoUri || !temporalAddress) {
    const tools = await installTools({ cacheDir: defaultCacheDir(process.env), env: process.env, log });
    const started = await Promise.all([
      mongoUri
        ? undefined
        : startFerretDb({ binPath: tools.ferretDb, dataDir: join(dataDir, 'ferretdb'), log }),
      temporalAddress
        ? undefined
        : startTemporalDevServer({ cliPath: tools.temporalCli, headless: true, dynamicConfig, log }),
    ]);
    const [ferret, temporal] = started;
    if (ferret) {
      cleanups.push(() => ferret.stop());
      mongoUri = ferret.uri;
      pids.ferretDb = findDescendants(process.pid, tools.ferretDb)[0];
    }
    if (temporal) {
      cleanups.push(() => temporal.stop());
      temporalAddress = temporal.address;
      pids.temporal = findDescendants(process.pid, `--port ${temporal.address.split(':')[1]}`)[0];
    }
  }
  if (!mongoUri || !temporalAddress) throw new Error('no MongoDB or Temporal address');
  const namespace = process.env.TEMPORAL_NAMESPACE || 'default';

  const emulator = await startDropboxEmulator({ seed: 5 });
  cleanups.push(() => emulator.close());
  const connection = await Connection.connect({ address: temporalAddress });
  cleanups.push(() => connection.close());
  const client = new Client({ connection, namespace });

  const started = Date.now();
  const { code } = await bundleWorkflowCode({
    ...workflowBundleOptions(),
    logger: new DefaultLogger('WARN'),
  });
  const bundlePath = join(dataDir, 'workflow-bundle.js');
  await writeFile(bundlePath, code);
  log(`workflow bundle built (${Date.now() - started} ms)`);

  const baseUri = mongoUri;
  const openDb = async (label: string) => {
    const name = `bench_${label}_${randomBytes(3).toString('hex')}`.replace(/[^a-z0-9_]/giu, '_');
    const uri = withDatabase(baseUri, name);
    const { client: mongo, db } = await connectMongo(uri);
    await ensureIndexes(db);
    cleanups.push(async () => {
      await db.dropDatabase().catch(() => undefined);
      await mongo.close();
    });
    return { db, uri, client: mongo };
  };

  return {
    mongoUri,
    temporalAddress,
    namespace,
    client,
    emulator,
    bundlePath,
    tokenKeyHex: randomBytes(32).toString('hex'),
    pids,
    openDb,
    close,
  };
}
