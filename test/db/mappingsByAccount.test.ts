import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createConnectionsRepository } from '../../src/db/connectionsRepository';
import { createMappingsRepository } from '../../src/db/mappingsRepository';
import { createOrgsRepository } from '../../src/db/orgsRepository';
import { createProjectsRepository } from '../../src/db/projectsRepository';
import { MAPPING_STATES } from '../../src/domain/mappingState';
import { openTestDb, type TestDb } from './testDb';

import type { SealedToken } from '../../src/domain/types';

const SEALED: SealedToken = { v: 1, keyId: 'k', iv: 'iv', tag: 'tag', ciphertext: 'c' };

describe('mappings of a Dropbox account, for webhook notifications', () => {
  let t: TestDb;

  /** A project of an organization with the Dropbox feature on (or off). */
  async function project(dropbox = true): Promise<string> {
    const org = await createOrgsRepository(t.db).create({ name: 'Org', features: { dropbox } });
    return (await createProjectsRepository(t.db).create({ orgId: org._id, name: 'Site' }))._id;
  }

  before(async () => {
    t = await openTestDb('by_account');
  });
  after(async () => {
    await t?.close();
  });

  it('finds the active and failed mappings over every connection to the account, and nothing of other accounts', async () => {
    const connections = createConnectionsRepository(t.db);
    const mappings = createMappingsRepository(t.db);
    const connect = async (accountId: string) =>
      connections.create({
        projectId: await project(),
        clientIdentification: 'a@example.com',
        accountId,
        accountEmail: 'a@example.com',
        token: SEALED,
      });
    const [first, second, other] = await Promise.all([connect('dbid:AAone'), connect('dbid:AAone'), connect('dbid:AAtwo')]);
    const wanted: string[] = [];
    for (const connection of [first!, second!, other!]) {
      for (const state of MAPPING_STATES) {
        const m = await mappings.create({
          projectId: connection.projectId,
          connectionId: connection._id,
          dropboxPath: `/Folder ${state}`,
          targetFolder: '/',
          state,
        });
        if (connection !== other && (state === 'active' || state === 'failed')) wanted.push(m._id);
      }
    }
    const found = await mappings.listSyncOnChangeByAccount('dbid:AAone');
    assert.deepEqual(found.map((m) => m._id).sort(), wanted.sort());
    assert.equal(wanted.length, 4);
    assert.deepEqual(await mappings.listSyncOnChangeByAccount('dbid:AAnobody'), []);
  });

  it("narrows to the connections made with an admin's own app, and keeps that app's newest secret Dropbox did not refuse", async () => {
    const connections = createConnectionsRepository(t.db);
    const mappings = createMappingsRepository(t.db);
    const sealed = (ciphertext: string): SealedToken => ({ ...SEALED, ciphertext });
    const connect = async (appSecret: string | undefined, at: Date) =>
      connections.create(
        {
          projectId: await project(),
          clientIdentification: 'a@example.com',
          accountId: 'dbid:AAapp',
          accountEmail: 'a@example.com',
          token: SEALED,
          ...(appSecret === undefined
            ? {}
            : { refresh: { refreshToken: SEALED, appKey: 'own-app', appSecret: sealed(appSecret), accessTokenExpiresAt: at } }),
        },
        at,
      );
    const old = await connect('old-secret', new Date('2026-12-01T00:00:00Z'));
    const rotated = await connect('new-secret', new Date('2026-12-02T00:00:00Z'));
    const pasted = await connect(undefined, new Date('2026-12-03T00:00:00Z'));
    const ids: Record<string, string> = {};
    for (const c of [old, rotated, pasted]) {
      ids[c._id] = (await mappings.create({ projectId: c.projectId, connectionId: c._id, dropboxPath: '/F', targetFolder: '/', state: 'active' }))._id;
    }
    const byApp = await mappings.listSyncOnChangeByAccount('dbid:AAapp', 'own-app');
    assert.deepEqual(byApp.map((m) => m._id).sort(), [ids[old._id], ids[rotated._id]].sort());
    assert.equal((await mappings.listSyncOnChangeByAccount('dbid:AAapp')).length, 3);

    assert.equal((await connections.findAppSecret('own-app'))?.appSecret.ciphertext, 'new-secret');
    await connections.markRefreshRefused(rotated._id, SEALED, 'invalid_client');
    assert.equal((await connections.findAppSecret('own-app'))?.appSecret.ciphertext, 'old-secret', 'a refused app secret is not used');
    await connections.markRefreshRefused(old._id, SEALED, 'invalid_grant');
    assert.equal((await connections.findAppSecret('own-app'))?.appSecret.ciphertext, 'old-secret', 'a revoked grant says nothing of the secret');
    assert.equal(await connections.findAppSecret('unknown-app'), undefined);
  });

  it('leaves out the mappings of an organization whose Dropbox feature is off: no Dropbox call for them', async () => {
    const connections = createConnectionsRepository(t.db);
    const mappings = createMappingsRepository(t.db);
    const ids: Record<string, string> = {};
    for (const [name, dropbox] of [['on', true], ['off', false]] as const) {
      const c = await connections.create({
        projectId: await project(dropbox),
        clientIdentification: 'f@example.com',
        accountId: 'dbid:AAfeature',
        accountEmail: 'f@example.com',
        token: SEALED,
      });
      ids[name] = (await mappings.create({ projectId: c.projectId, connectionId: c._id, dropboxPath: '/F', targetFolder: '/', state: 'active' }))._id;
    }
    const found = await mappings.listSyncOnChangeByAccount('dbid:AAfeature');
    assert.deepEqual(found.map((m) => m._id), [ids['on']]);
  });
});
