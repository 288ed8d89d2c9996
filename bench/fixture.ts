/**
 * What a scenario syncs: an emulated Dropbox account with its folders, a connection holding the
 * sealed token and mappings in a database of the scenario's own, as the API would have made them.
 * With a token lifetime, the connection holds a refresh token of an emulated app whose access
 * tokens live that long, made by the API's own credentials check, so the worker refreshes as it
 * would against Dropbox.
 */
import { randomBytes } from 'node:crypto';
import type { Db } from 'mongodb';
import { checkCredentials, createConnection } from '../src/api/connectionCredentials';
import { createSyncWorkflows, type SyncWorkflows } from '../src/api/syncWorkflows';
import { createRepositories, type Repositories } from '../src/db/repositories';
import type { Connection, Mapping } from '../src/domain/types';
import { createDropboxClient } from '../src/dropbox/client';
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
  /** Successful refreshes of the connection's refresh token in [from, to) (ms); 0 without one. */
  refreshesBetween(from: number, to: number): number;
}

export interface FixtureOptions {
  /** Connect with a refresh token whose access tokens live this long (seconds). */
  tokenLifetimeSeconds?: number;
}

export async function openFixture(stack: BenchStack, label: string, options: FixtureOptions = {}): Promise<Fixture> {
  const { db, uri } = await stack.openDb(label);
  const repos = createRepositories(db);
  const cipher = createTokenCipher(Buffer.from(stack.tokenKeyHex, 'hex'));
  const org = await repos.orgs.create({ name: 'Bench Construction', features: { dropbox: true } });
  const { _id: projectId } = await repos.projects.create({ orgId: org._id, name: 'Bench site' });
  const taskQueue = `bench-${label}-${randomBytes(3).toString('hex')}`;
  const workflows = (pollIntervalMs: number, cyclesPerRun?: number) =>
    createSyncWorkflows({ client: stack.client, taskQueue, pollIntervalMs, cyclesPerRun, log: silentLogger });
  const account = {
    email: `bench-${label}-${randomBytes(3).toString('hex')}@example.com`,
    name: 'Bench Site',
    accountType: 'business' as const,
  };
  let connected: { accountId: string; token: string; connection: Connection; refreshToken?: string };
  if (options.tokenLifetimeSeconds === undefined) {
    connected = await connectAccount({ emulator: stack.emulator, repos, cipher }, projectId, account);
  } else {
    const { emulator } = stack;
    const { accountId } = emulator.addAccount(account);
    const app = emulator.registerApp({ redirectUris: [], accessTokenLifetimeSeconds: options.tokenLifetimeSeconds });
    const refreshToken = emulator.grantOffline(app.appKey, accountId, { pkce: true });
    // As POST …/connections with {refreshToken, appKey}: one refresh checks it, then it is sealed.
    const checked = await checkCredentials(createDropboxClient({ apiUrl: emulator.url }), { refreshToken, appKey: app.appKey });
    const connection = await createConnection(
      { repos, cipher, syncWorkflows: workflows(300_000), log: silentLogger },
      projectId,
      account.email,
      checked,
    );
    connected = { accountId, token: checked.accessToken, connection, refreshToken };
  }
  const { accountId, token, connection, refreshToken } = connected;
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
    workflows,
    refreshesBetween: (from, to) =>
      refreshToken === undefined
        ? 0
        : (stack.emulator.tokenCalls().refreshedAt[refreshToken] ?? []).filter((t) => t >= from && t < to).length,
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
