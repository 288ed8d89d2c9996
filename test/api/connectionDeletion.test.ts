/**
 * Deleting a connection while a folder is being mapped with it: one of the two gives way, and no
 * mapping is ever left over a deleted connection (it could never sync, nor be given a new token).
 * Dropbox answers slowly here, so both requests are in flight at once.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
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

const LATENCY_MS = 1_500;

describe('deleting a connection while a folder is mapped with it', () => {
  let h: ApiHarness;
  let admin: ProjectAdmin;

  before(async () => {
    h = await startApiHarness();
    admin = await createProjectAdmin(h);
  });
  after(async () => {
    await h?.close();
  });

  const api = (method: string, path: string, body?: unknown) =>
    h.call(method, `${dropboxBase(admin)}${path}`, { key: admin.key, ...(body === undefined ? {} : { body }) });

  it('takes the new mapping back when the deletion began while Dropbox was asked about the folder', async () => {
    const account = dropboxAccount(h);
    h.emulator.addFolder(account.accountId, '/Site D');
    const connectionId = await connect(h, admin, account);
    h.emulator.setFaults({ latencyMs: LATENCY_MS });
    try {
      // The mapping's folder check is under way at Dropbox when the deletion counts the mappings.
      const mapping = api('POST', '/mappings', { connectionId, dropboxPath: '/Site D' });
      await new Promise((resolve) => setTimeout(resolve, LATENCY_MS / 5));
      const deletion = api('DELETE', `/connections/${connectionId}`);
      const [mapped, deleted] = await Promise.all([mapping, deletion]);
      expectStatus(deleted, 204);
      assertError(mapped, 409, 'connection_being_deleted');
    } finally {
      h.emulator.clearFaults();
    }
    const listed = await api('GET', '/mappings');
    expectStatus(listed, 200);
    assert.deepEqual(listed.body.mappings, [], 'no mapping left over the deleted connection');
    const connections = await api('GET', '/connections');
    assert.ok(!(connections.body.connections as { id: string }[]).some((c) => c.id === connectionId), 'the connection is gone');
  });

  it('refuses the deletion when the mapping was stored first, and leaves the connection usable', async () => {
    const account = dropboxAccount(h);
    h.emulator.addFolder(account.accountId, '/Site E');
    const connectionId = await connect(h, admin, account);
    const mapped = await api('POST', '/mappings', { connectionId, dropboxPath: '/Site E' });
    expectStatus(mapped, 201);
    assertError(await api('DELETE', `/connections/${connectionId}`), 409, 'connection_in_use');
    // The refused deletion holds nothing back: another folder can be mapped with it at once.
    h.emulator.addFolder(account.accountId, '/Site E2');
    expectStatus(await api('POST', '/mappings', { connectionId, dropboxPath: '/Site E2' }), 201);
  });

  it('answers a second deletion while the first is under way with 409, leaving the first its mark', async () => {
    const account = dropboxAccount(h);
    h.emulator.addFolder(account.accountId, '/Site F');
    const connectionId = await connect(h, admin, account);
    h.emulator.setFaults({ latencyMs: LATENCY_MS });
    try {
      // The first deletion is revoking the token at Dropbox (slowly) when the second arrives.
      const first = api('DELETE', `/connections/${connectionId}`);
      await new Promise((resolve) => setTimeout(resolve, LATENCY_MS / 5));
      assertError(await api('DELETE', `/connections/${connectionId}`), 409, 'connection_being_deleted');
      // The mark stands: a folder mapped meanwhile is taken back, not left over a deleted connection.
      const mapping = api('POST', '/mappings', { connectionId, dropboxPath: '/Site F' });
      expectStatus(await first, 204);
      const mapped = await mapping;
      // Refused one way or another (taken back, connection gone, or its token already revoked).
      assert.ok([404, 409, 422].includes(mapped.status), `${mapped.status} ${JSON.stringify(mapped.body)}`);
    } finally {
      h.emulator.clearFaults();
    }
    const listed = await api('GET', '/mappings');
    assert.ok(!(listed.body.mappings as { connectionId: string }[]).some((m) => m.connectionId === connectionId));
  });

  it('deletes nothing while Dropbox asks the account to wait, and says when to try again', async () => {
    const account = dropboxAccount(h);
    const connectionId = await connect(h, admin, account);
    await h.db.collection<{ accountId: string }>('connections').updateMany({ accountId: account.accountId }, { $set: { rateLimitedUntil: new Date(Date.now() + 30_000) } });
    const refused = await api('DELETE', `/connections/${connectionId}`);
    assertError(refused, 503, 'dropbox_unavailable');
    assert.ok((refused.body.error.details.retryAfterSeconds as number) > 0);
    const connections = await api('GET', '/connections');
    assert.ok((connections.body.connections as { id: string }[]).some((c) => c.id === connectionId), 'not deleted unrevoked');
    // Its mark is cleared: a mapping may be made with it (once Dropbox lets the account call again).
    const stored = await h.deps.repos.connections.getById(connectionId);
    assert.equal(stored?.deletingUntil, undefined);
  });
});
