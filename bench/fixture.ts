/**
 * What a scenario syncs: an emulated Dropbox account with its folders, a connection holding the
 * sealed token and mappings in a database of the scenario's own, as the API would have made them.
 */
import { randomBytes } from 'node:crypto';
import type { Db } from 'mongodb';
import { createSyncWorkflows, type SyncWorkflows } from '../src/api/syncWorkflows';
import { createRepositories, type Repositories } from '../src/db/repositories';
import type { Connection, Mapping } from '../src/domain/types';
import { silentLogger } from '../src/log';
import { createTokenCipher } from '../src/security/tokenCipher';
import { connectAccount } from '../test/support/connectedAccount';
import type { BenchStack } from './stack';

export interface Fixture {
  db: Db;
  dbUri: string;
  repos: Repositories;
  accountId: string;
  token: string;
  connection: Connection;
  projectId: string;
  taskQueue: string;
  map(dropboxPath: string): Promise<Mapping>;
  /** The product's own start path (USE_EXISTING, search attributes), with this poll interval. */
  workflows(pollIntervalMs: number, cyclesPerRun?: number): SyncWorkflows;
}

export async function openFixture(stack: BenchStack, label: string): Promise<Fixture> {
  const { db, uri } = await stack.openDb(label);
  const repos = createRepositories(db);
  const cipher = createTokenCipher(Buffer.from(stack.tokenKeyHex, 'hex'));
  const projectId = randomBytes(12).toString('hex');
  const { accountId, token, connection } = await connectAccount({ emulator: stack.emulator, repos, cipher }, projectId, {
    email: `bench-${label}-${randomBytes(3).toString('hex')}@example.com`,
    name: 'Bench Site',
    accountType: 'business',
  });
  const taskQueue = `bench-${label}-${randomBytes(3).toString('hex')}`;
  return {
    db,
    dbUri: uri,
    repos,
    accountId,
    token,
    connection,
    projectId,
    taskQueue,
    map: (dropboxPath) =>
      repos.mappings.create({ projectId, connectionId: connection._id, dropboxPath, targetFolder: '/' }),
    workflows: (pollIntervalMs, cyclesPerRun) =>
      createSyncWorkflows({ client: stack.client, taskQueue, pollIntervalMs, cyclesPerRun, log: silentLogger }),
  };
}

/** Runs `fn` over `items` with at most `limit` at a time; results in order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, i: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    for (let i = next++; i < items.length; i = next++) results[i] = await fn(items[i] as T, i);
  });
  await Promise.all(lanes);
  return results;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `probe` every `everyMs` until it returns a value, or fails after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  { timeoutMs, everyMs = 200 }: { timeoutMs: number; everyMs?: number },
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}
