/**
 * What admins see while Temporal cannot take requests: a mapping is stored and answered 503,
 * and the same request again starts its workflow; signals change nothing until they get
 * through; a mapping's status falls back to MongoDB.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { SyncWorkflows } from '../../src/api/syncWorkflows';
import {
  assertError,
  connect,
  createProjectAdmin,
  dropboxAccount,
  dropboxBase,
  expectStatus,
  type ProjectAdmin,
} from './fixtures';
import { type ApiHarness, startApiHarness } from './harness';

const unreachable = () => Promise.reject(new Error('14 UNAVAILABLE: No connection established'));

describe('while Temporal is unavailable', () => {
  let h: ApiHarness;
  let admin: ProjectAdmin;
  let connectionId: string;
  let accountId: string;
  let downUrl: string;

  before(async () => {
    h = await startApiHarness();
    admin = await createProjectAdmin(h);
    const account = dropboxAccount(h);
    accountId = account.accountId;
    h.emulator.addFolder(account.accountId, '/Site');
    connectionId = await connect(h, admin, account);
    const down: SyncWorkflows = {
      start: unreachable,
      signal: unreachable,
      status: () => Promise.resolve(null),
    };
    downUrl = await h.serve({ ...h.deps, syncWorkflows: down });
  });

  after(async () => {
    await h?.close();
  });

  const viaDown = (method: string, path: string, body?: unknown) =>
    h.call(method, `${dropboxBase(admin)}${path}`, {
      key: admin.key,
      baseUrl: downUrl,
      ...(body === undefined ? {} : { body }),
    });
  const viaUp = (method: string, path: string, body?: unknown) =>
    h.call(method, `${dropboxBase(admin)}${path}`, {
      key: admin.key,
      ...(body === undefined ? {} : { body }),
    });

  it('stores the mapping and answers 503 temporal_unavailable; the same request again answers 409 and starts the workflow', async () => {
    const first = await viaDown('POST', '/mappings', { connectionId, dropboxPath: '/Site' });
    assertError(first, 503, 'temporal_unavailable');
    const mappingId = first.body.error.details.mappingId as string;
    assert.match(mappingId, /^[0-9a-f]{32}$/u);
    const handle = h.temporal.workflow.getHandle(`folder-sync-${mappingId}`);
    await assert.rejects(handle.describe(), /not found/iu);

    const retry = await viaUp('POST', '/mappings', { connectionId, dropboxPath: '/Site' });
    assertError(retry, 409, 'already_mapped');
    assert.equal(retry.body.error.details.mappingId, mappingId);
    assert.equal((await handle.describe()).status.name, 'RUNNING');
    // Once more: still one workflow, still 409.
    assertError(
      await viaUp('POST', '/mappings', { connectionId, dropboxPath: '/Site' }),
      409,
      'already_mapped',
    );
  });

  it('refuses pause, resume, sync and unmap with 503 and leaves the mapping as it was', async () => {
    const list = await viaUp('GET', '/mappings');
    const mappingId = (list.body.mappings as { id: string }[])[0]!.id;
    for (const action of ['pause', 'resume', 'sync']) {
      assertError(await viaDown('POST', `/mappings/${mappingId}/${action}`), 503, 'temporal_unavailable');
    }
    assertError(await viaDown('DELETE', `/mappings/${mappingId}`), 503, 'temporal_unavailable');
    const status = await viaDown('GET', `/mappings/${mappingId}`);
    expectStatus(status, 200);
    assert.equal(status.body.state, 'active');
    assert.equal(status.body.live, false, 'answered from MongoDB');
    assert.equal(status.body.nextSyncAt, null);
    // The folder is still held: unmapping did not go through.
    assertError(
      await viaUp('POST', '/mappings', { connectionId, dropboxPath: '/Site' }),
      409,
      'already_mapped',
    );
  });

  it('starts the workflow of a mapping whose create met the outage once the mapping is read, though the request was not sent again', async () => {
    h.emulator.addFolder(accountId, '/Site G');
    const first = await viaDown('POST', '/mappings', { connectionId, dropboxPath: '/Site G' });
    assertError(first, 503, 'temporal_unavailable');
    const mappingId = first.body.error.details.mappingId as string;
    const handle = h.temporal.workflow.getHandle(`folder-sync-${mappingId}`);
    await assert.rejects(handle.describe(), /not found/iu);
    // Not while its create may still be starting it (or taking it back): a minute must pass.
    expectStatus(await viaUp('GET', `/mappings/${mappingId}`), 200);
    await assert.rejects(handle.describe(), /not found/iu);
    await h.db.collection<{ _id: string }>('mappings').updateOne({ _id: mappingId }, { $set: { createdAt: new Date(Date.now() - 120_000) } });
    // The admin page reads its mappings every few seconds: the first read once Temporal is back starts it.
    expectStatus(await viaUp('GET', `/mappings/${mappingId}`), 200);
    assert.equal((await handle.describe()).status.name, 'RUNNING');
  });
});
