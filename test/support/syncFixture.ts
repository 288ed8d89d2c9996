/**
 * A mapped folder over real servers for activity and workflow tests: a FerretDB database of its
 * own, the Dropbox emulator with one account, a connection holding the sealed token, a mapping,
 * and the product's own activity dependencies built over them.
 */
import { randomBytes } from 'node:crypto';
import type { ActivityDeps } from '../../src/activities';
import { createRepositories, type Repositories } from '../../src/db/repositories';
import { DEFAULT_SPECIAL_CHARACTERS, createPathPolicy } from '../../src/domain/pathPolicy';
import { runShortening } from '../../src/domain/runStagger';
import type { Mapping } from '../../src/domain/types';
import { createDropboxClient } from '../../src/dropbox/client';
import { createCredentialsProvider } from '../../src/dropbox/credentials/credentialsProvider';
import { createLogger } from '../../src/log';
import { createTokenCipher } from '../../src/security/tokenCipher';
import { connectAccount } from './connectedAccount';
import { openTestDb, type TestDb } from '../db/testDb';
import { startDropboxEmulator, type DropboxEmulator } from '../../src/dev/dropboxEmulator/index';

export const FOLDER = '/Projects/Tower B';

export interface SyncFixture {
  testDb: TestDb;
  repos: Repositories;
  emulator: DropboxEmulator;
  accountId: string;
  token: string;
  deps: ActivityDeps;
  /** Every log line the activities wrote. */
  logLines: string[];
  /**
   * A new mapping of `path` (default FOLDER) over the fixture's connection; with `stagger`, one
   * whose first run ends that many cycles early (runShortening), since mapping ids are random.
   */
  newMapping(path?: string, stagger?: { cyclesPerRun: number; shortening: number }): Promise<Mapping>;
  /** Seals a token into the connection, as the API does when an admin replaces it. */
  replaceToken(token: string): Promise<void>;
  close(): Promise<void>;
}

export async function openSyncFixture(label: string, options: { pageLimit?: number } = {}): Promise<SyncFixture> {
  const testDb = await openTestDb(label);
  const emulator = await startDropboxEmulator({ seed: 7 });
  const repos = createRepositories(testDb.db);
  const cipher = createTokenCipher(randomBytes(32));
  // The mapping's organization has the Dropbox feature: a cycle without it touches nothing.
  const org = await repos.orgs.create({ name: 'Site Construction', features: { dropbox: true } });
  const { _id: projectId } = await repos.projects.create({ orgId: org._id, name: 'Tower B' });
  const account = await connectAccount({ emulator, repos, cipher }, projectId, {
    email: `site-${randomBytes(3).toString('hex')}@example.com`,
    name: 'Site Office',
    accountType: 'pro',
  });
  const { accountId, connection } = account;
  emulator.addFolder(accountId, FOLDER);
  const logLines: string[] = [];
  const dropbox = createDropboxClient({ apiUrl: emulator.url });
  const deps: ActivityDeps = {
    repos,
    dropbox,
    credentials: createCredentialsProvider({ store: repos, tokens: dropbox, cipher }),
    pathPolicy: createPathPolicy(DEFAULT_SPECIAL_CHARACTERS),
    pageLimit: options.pageLimit ?? 2000,
    log: createLogger({ level: 'debug', write: (line) => logLines.push(line) }),
  };
  return {
    testDb,
    repos,
    emulator,
    accountId,
    token: account.token,
    deps,
    logLines,
    async newMapping(path = FOLDER, stagger) {
      for (;;) {
        const mapping = await repos.mappings.create({ projectId, connectionId: connection._id, dropboxPath: path, targetFolder: '/' });
        if (!stagger || runShortening(mapping._id, stagger.cyclesPerRun) === stagger.shortening) return mapping;
        await repos.mappings.markUnmapped(mapping._id);
      }
    },
    replaceToken: (next) => account.replaceToken(next),
    async close() {
      await emulator.close();
      await testDb.close();
    },
  };
}
