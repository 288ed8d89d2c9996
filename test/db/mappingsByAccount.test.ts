import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createConnectionsRepository } from '../../src/db/connectionsRepository';
import { newId } from '../../src/db/ids';
import { createMappingsRepository } from '../../src/db/mappingsRepository';
import { MAPPING_STATES } from '../../src/domain/mappingState';
import { openTestDb, type TestDb } from './testDb';

import type { SealedToken } from '../../src/domain/types';

const SEALED: SealedToken = { v: 1, keyId: 'k', iv: 'iv', tag: 'tag', ciphertext: 'c' };

describe('mappings of a Dropbox account, for webhook notifications', () => {
  let t: TestDb;

  before(async () => {
    t = await openTestDb('by_account');
  });
  after(async () => {
    await t?.close();
  });

  it('finds the active and failed mappings over every connection to the account, and nothing of other accounts', async () => {
    const connections = createConnectionsRepository(t.db);
    const mappings = createMappingsRepository(t.db);
    const connect = (accountId: string) =>
      connections.create({
        projectId: newId(),
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
});
