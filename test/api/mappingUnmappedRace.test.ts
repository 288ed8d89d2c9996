/**
 * A mapping unmapped before its creation started its sync (the unmap's signal starts the workflow
 * and ends it): the creation's start must not tell the admin to send the request again, which
 * would map the folder just unmapped.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApiError } from '../../src/api/errors';
import { startMappingWorkflow } from '../../src/api/mappingAccess';
import { collections } from '../../src/db/collections';
import { silentLogger } from '../../src/log';
import { connect, createProjectAdmin, dropboxAccount, dropboxBase, expectStatus, type ProjectAdmin } from './fixtures';
import { type ApiHarness, startApiHarness } from './harness';

describe('a mapping unmapped while it is created', () => {
  let h: ApiHarness;
  let admin: ProjectAdmin;

  before(async () => {
    h = await startApiHarness({ worker: true });
    admin = await createProjectAdmin(h);
  });
  after(async () => {
    await h?.close();
  });

  const api = (method: string, path: string, body?: unknown) =>
    h.call(method, `${dropboxBase(admin)}${path}`, { key: admin.key, ...(body === undefined ? {} : { body }) });

  it('makes the creation\'s start of a mapping whose workflow already ended unmapped a 409 mapping_unmapped, not "send it again"', async () => {
    const account = dropboxAccount(h);
    h.emulator.addFolder(account.accountId, '/Site U');
    const connectionId = await connect(h, admin, account);
    const created = await api('POST', '/mappings', { connectionId, dropboxPath: '/Site U' });
    expectStatus(created, 201);
    expectStatus(await api('DELETE', `/mappings/${String(created.body.id)}`), 202);
    const handle = h.temporal.workflow.getHandle(String(created.body.workflowId));
    await handle.result();
    // The creation's start, had it come after the unmap (as when the unmap lands between the
    // mapping's insert and its start).
    const mapping = await collections(h.db).mappings.findOne({ _id: String(created.body.id) });
    assert.ok(mapping);
    await assert.rejects(
      startMappingWorkflow(h.deps.syncWorkflows, mapping, silentLogger),
      (err: unknown) => err instanceof ApiError && err.status === 409 && err.code === 'mapping_unmapped',
    );
  });
});
