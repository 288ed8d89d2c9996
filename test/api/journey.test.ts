/**
 * An admin's whole journey through HTTP, over FerretDB, the Temporal dev server, a worker
 * in-process and the Dropbox emulator; then a look for the token everywhere it must not be.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  commandAcceptedResponse,
  connectionResponse,
  filesResponse,
  foldersResponse,
  mappingListResponse,
  mappingResponse,
  rejectionsResponse,
} from '../../src/api/responseSchemas';
import { SUBFOLDER_HINT } from '../../src/domain/mappingState';
import { eventually } from '../support/eventually';
import {
  assertError,
  createProjectAdmin,
  dropboxAccount,
  dropboxBase,
  expectStatus,
  type DropboxTestAccount,
  type ProjectAdmin,
} from './fixtures';
import { type ApiHarness, startApiHarness } from './harness';
import { historyText } from './histories';
import { MappingWorkflowEndedError } from '../../src/api/syncWorkflows';

const SITE_A = '/Projects/Site A';

describe('the admin journey', () => {
  let h: ApiHarness;
  let admin: ProjectAdmin;
  let account: DropboxTestAccount;
  let connectionId: string;
  let mappingId: string;
  const tokens: string[] = [];
  const workflowIds: string[] = [];

  const base = () => dropboxBase(admin);
  const api = (method: string, path: string, body?: unknown) =>
    h.call(method, `${base()}${path}`, { key: admin.key, ...(body === undefined ? {} : { body }) });
  const fileNames = async (id: string) => {
    const res = await api('GET', `/mappings/${id}/files?limit=1000`);
    expectStatus(res, 200);
    filesResponse.parse(res.body);
    return (res.body.files as { name: string }[]).map((f) => f.name).sort();
  };

  before(async () => {
    h = await startApiHarness({ worker: true });
    admin = await createProjectAdmin(h);
    account = dropboxAccount(h, 'site.admin@example.com');
    tokens.push(account.token);
    h.emulator.addFolder(account.accountId, '/Projects/Site B');
    h.emulator.addFile(account.accountId, `${SITE_A}/plan.pdf`, { content: 'plan' });
    h.emulator.addFile(account.accountId, `${SITE_A}/plan#2?.pdf`, { content: 'bad name' });
    h.emulator.addFolder(account.accountId, `${SITE_A}/Photos`);
  });

  after(async () => {
    await h?.close();
  });

  it('connects the Dropbox account after validating the token, and never shows the token', async () => {
    const res = await api('POST', '/connections', {
      clientIdentification: 'Site.Admin@Example.com',
      accessToken: account.token,
    });
    expectStatus(res, 201);
    connectionResponse.parse(res.body);
    assert.equal(res.body.account.email, 'site.admin@example.com');
    assert.equal(res.body.clientIdentification, 'Site.Admin@Example.com');
    assert.ok(!res.text.includes(account.token));
    assert.ok(!('token' in res.body));
    connectionId = res.body.id as string;

    const list = await api('GET', '/connections');
    expectStatus(list, 200);
    assert.deepEqual(
      (list.body.connections as { id: string }[]).map((c) => c.id),
      [connectionId],
    );
  });

  it('browses one level of folders', async () => {
    const root = await api('GET', `/connections/${connectionId}/folders`);
    expectStatus(root, 200);
    assert.deepEqual(root.body, { path: '/', folders: [{ name: 'Projects', path: '/Projects' }] });

    const projects = await api(
      'GET',
      `/connections/${connectionId}/folders?path=${encodeURIComponent('/Projects')}`,
    );
    expectStatus(projects, 200);
    foldersResponse.parse(projects.body);
    assert.deepEqual(projects.body.folders, [
      { name: 'Site A', path: SITE_A },
      { name: 'Site B', path: '/Projects/Site B' },
    ]);

    const missing = await api('GET', `/connections/${connectionId}/folders?path=/Nowhere`);
    assertError(missing, 404, 'folder_not_found');
    // Where the path came from, as a 400 of the API's own names it.
    assert.deepEqual(missing.body.error.details, { path: '/Nowhere', field: 'path', in: 'query' });
    const file = await api(
      'GET',
      `/connections/${connectionId}/folders?path=${encodeURIComponent(`${SITE_A}/plan.pdf`)}`,
    );
    assertError(file, 400, 'not_a_folder');
  });

  it('maps "/Projects/Site A" and its files appear, the special-character file and the subfolder as rejections', async () => {
    const res = await api('POST', '/mappings', { connectionId, dropboxPath: SITE_A });
    expectStatus(res, 201);
    mappingResponse.parse(res.body);
    mappingId = res.body.id as string;
    assert.equal(res.body.workflowId, `folder-sync-${mappingId}`);
    assert.equal(res.body.targetFolder, 'Site A');
    assert.equal(res.body.dropboxPath, SITE_A);
    workflowIds.push(res.body.workflowId as string);

    await eventually(async () => assert.deepEqual(await fileNames(mappingId), ['plan.pdf']), 30_000);

    const rejections = await api('GET', `/mappings/${mappingId}/rejections`);
    expectStatus(rejections, 200);
    rejectionsResponse.parse(rejections.body);
    const byName = new Map((rejections.body.rejections as Record<string, unknown>[]).map((r) => [r.name, r]));
    assert.equal(byName.get('plan#2?.pdf')?.kind, 'special_characters');
    assert.deepEqual(byName.get('plan#2?.pdf')?.characters, ['#', '?']);
    assert.equal(byName.get('Photos')?.kind, 'subfolder');
    assert.equal(byName.get('Photos')?.hint, SUBFOLDER_HINT);

    const onlyFolders = await api('GET', `/mappings/${mappingId}/rejections?kind=subfolder`);
    assert.deepEqual(
      (onlyFolders.body.rejections as { name: string }[]).map((r) => r.name),
      ['Photos'],
    );

    const status = await api('GET', `/mappings/${mappingId}`);
    expectStatus(status, 200);
    mappingResponse.parse(status.body);
    assert.equal(status.body.live, true);
    assert.equal(status.body.state, 'active');
    const { contents: _contents, ...counts } = status.body.counts as Record<string, unknown>;
    assert.deepEqual(counts, { files: 1, rejections: 1, skippedFolders: 1 });
    assert.ok(status.body.lastSyncAt);
    // The file's content follows its record: counted pending, or stored, once the copy that
    // follows the cycle has given its rev a content record (docs/api.md, the counts).
    await eventually(async () => {
      const later = await api('GET', `/mappings/${mappingId}`);
      const { contents } = later.body.counts as { contents: { pending: number; stored: number; failed: number } };
      assert.equal(contents.pending + contents.stored, 1);
      assert.equal(contents.failed, 0);
    }, 30_000);
  });

  it('refuses to map the same folder twice and names the live mapping', async () => {
    const again = await api('POST', '/mappings', { connectionId, dropboxPath: '/projects/site a/' });
    assertError(again, 409, 'already_mapped');
    assert.equal(again.body.error.details.mappingId, mappingId);
  });

  it('syncs a new file at once on POST .../sync', async () => {
    h.emulator.addFile(account.accountId, `${SITE_A}/new.dwg`, { content: 'new' });
    const res = await api('POST', `/mappings/${mappingId}/sync`);
    expectStatus(res, 202);
    assert.deepEqual(res.body, { id: mappingId, state: 'active', accepted: 'sync' });
    await eventually(
      async () => assert.deepEqual(await fileNames(mappingId), ['new.dwg', 'plan.pdf']),
      20_000,
    );
  });

  it('pauses: sync is refused while paused and no file is added; resume syncs what came meanwhile', async () => {
    const paused = await api('POST', `/mappings/${mappingId}/pause`);
    expectStatus(paused, 202);
    commandAcceptedResponse.parse(paused.body);
    assert.deepEqual(paused.body, { id: mappingId, state: 'paused', accepted: 'pause' });
    // At once, before the workflow has written the pause to MongoDB: the workflow says paused.
    assertError(await api('POST', `/mappings/${mappingId}/sync`), 409, 'mapping_paused');
    await eventually(async () => {
      const status = await api('GET', `/mappings/${mappingId}`);
      assert.equal(status.body.state, 'paused');
      assert.equal(status.body.live, true);
    });
    // The workflow records the pause in MongoDB too, which is what the list shows.
    await eventually(async () => {
      const list = await api('GET', '/mappings');
      mappingListResponse.parse(list.body);
      assert.equal((list.body.mappings as { state: string }[])[0]?.state, 'paused');
    });
    // In one answer, each mapping with what its workflow says, as GET of the mapping gives it.
    const listed = await api('GET', '/mappings?live=true');
    mappingListResponse.parse(listed.body);
    const [shown] = listed.body.mappings as { id: string; state: string; live: boolean; counts: unknown }[];
    const one = await api('GET', `/mappings/${mappingId}`);
    assert.deepEqual([shown?.id, shown?.state, shown?.live, shown?.counts], [mappingId, 'paused', true, one.body.counts]);
    assert.equal(((await api('GET', '/mappings')).body.mappings as { live: boolean }[])[0]?.live, false, 'MongoDB only by default');
    assertError(await api('GET', '/mappings?live=yes'), 400, 'invalid_request');

    h.emulator.addFile(account.accountId, `${SITE_A}/while-paused.txt`, { content: 'later' });
    const sync = await api('POST', `/mappings/${mappingId}/sync`);
    assertError(sync, 409, 'mapping_paused');
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    assert.deepEqual(await fileNames(mappingId), ['new.dwg', 'plan.pdf']);

    const resumed = await api('POST', `/mappings/${mappingId}/resume`);
    expectStatus(resumed, 202);
    assert.equal(resumed.body.state, 'active');
    await eventually(
      async () => assert.deepEqual(await fileNames(mappingId), ['new.dwg', 'plan.pdf', 'while-paused.txt']),
      20_000,
    );
    await eventually(async () => {
      const [active] = (await api('GET', '/mappings?live=true')).body.mappings as { state: string; live: boolean; nextSyncAt: string | null }[];
      assert.deepEqual([active?.state, active?.live], ['active', true]);
      assert.ok(active?.nextSyncAt, 'the next sync, which only the workflow knows');
    });
  });

  it('a mapping waiting for credentials resumes when the token is replaced', async () => {
    h.emulator.expireToken(account.token);
    expectStatus(await api('POST', `/mappings/${mappingId}/sync`), 202);
    await eventually(async () => {
      const status = await api('GET', `/mappings/${mappingId}`);
      assert.equal(status.body.state, 'needs_credentials');
      assert.match(status.body.lastError as string, /expired/u);
    }, 20_000);

    const other = dropboxAccount(h);
    tokens.push(other.token);
    const wrong = await api('PUT', `/connections/${connectionId}/token`, { accessToken: other.token });
    assertError(wrong, 422, 'identity_mismatch');

    const fresh = h.emulator.issueToken(account.accountId);
    tokens.push(fresh);
    h.emulator.addFile(account.accountId, `${SITE_A}/after-renewal.txt`, { content: 'renewed' });
    const replaced = await api('PUT', `/connections/${connectionId}/token`, { accessToken: fresh });
    expectStatus(replaced, 200);
    connectionResponse.parse(replaced.body);
    await eventually(async () => {
      const status = await api('GET', `/mappings/${mappingId}`);
      assert.equal(status.body.state, 'active');
      assert.ok((await fileNames(mappingId)).includes('after-renewal.txt'));
    }, 20_000);
  });

  it('will not delete a connection that still has mappings', async () => {
    assertError(await api('DELETE', `/connections/${connectionId}`), 409, 'connection_in_use');
  });

  const workflowEnded = (workflowId: string) =>
    eventually(async () => {
      const { status } = await h.temporal.workflow.getHandle(workflowId).describe();
      assert.equal(status.name, 'COMPLETED');
    }, 20_000);

  it('unmaps: 202, the workflow completes in Temporal, the state is unmapped, and the folder can be mapped again', async () => {
    const res = await api('DELETE', `/mappings/${mappingId}`);
    expectStatus(res, 202);
    assert.deepEqual(res.body, { id: mappingId, state: 'unmapped', accepted: 'unmap' });

    await workflowEnded(`folder-sync-${mappingId}`);
    const status = await api('GET', `/mappings/${mappingId}`);
    expectStatus(status, 200);
    assert.equal(status.body.state, 'unmapped');
    assert.equal(status.body.live, false);
    assertError(await api('POST', `/mappings/${mappingId}/pause`), 409, 'mapping_unmapped');
    // Unmapping again changes nothing and says the same.
    expectStatus(await api('DELETE', `/mappings/${mappingId}`), 202);
    // A command that read the mapping before the unmap (a webhook's syncNow, a request in flight)
    // never starts its workflow again: it would sync a folder no longer mapped.
    const stale = { ...(await h.deps.repos.mappings.get(admin.projectId, mappingId))!, state: 'active' as const };
    await assert.rejects(h.deps.syncWorkflows.signal(stale, 'syncNow'), MappingWorkflowEndedError);
    const description = await h.temporal.workflow.getHandle(`folder-sync-${mappingId}`).describe();
    assert.equal(description.status.name, 'COMPLETED', 'no new run');
    // An unmap whose record was missed (MongoDB still says active) finds the workflow ended: done.
    await h.db.collection('mappings').updateOne({ _id: mappingId as never }, { $set: { state: 'active' } });
    expectStatus(await api('DELETE', `/mappings/${mappingId}`), 202);
    assert.equal((await h.deps.repos.mappings.get(admin.projectId, mappingId))?.state, 'unmapped');
    assert.equal((await h.temporal.workflow.getHandle(`folder-sync-${mappingId}`).describe()).status.name, 'COMPLETED');
    // What was synced stays readable.
    assert.ok((await fileNames(mappingId)).includes('plan.pdf'));

    const again = await api('POST', '/mappings', {
      connectionId,
      dropboxPath: SITE_A,
      targetFolder: 'Site A (again)',
    });
    expectStatus(again, 201);
    assert.notEqual(again.body.id, mappingId);
    assert.equal(again.body.targetFolder, 'Site A (again)');
    workflowIds.push(again.body.workflowId as string);
    await eventually(
      async () => assert.ok((await fileNames(again.body.id as string)).includes('plan.pdf')),
      30_000,
    );

    expectStatus(await api('DELETE', `/mappings/${again.body.id as string}`), 202);
    // The workflow's last act records the mapping unmapped. Until then FerretDB, which writes an
    // update back whole, may let the record of the cycle just finished overwrite the unmap.
    await workflowEnded(again.body.workflowId as string);
    expectStatus(await api('DELETE', `/connections/${connectionId}`), 204);
    assertError(await api('GET', `/connections/${connectionId}/folders`), 404, 'connection_not_found');
  });

  it('never lets a token out: not in any answer, not in the logs, not in the workflow histories', async () => {
    assert.ok(tokens.length >= 3);
    for (const token of tokens) {
      for (const answer of h.answers) assert.ok(!answer.includes(token), 'a token in an API answer');
      for (const line of h.logLines) assert.ok(!line.includes(token), `a token in a log line: ${line}`);
    }
    assert.ok(
      h.logLines.some((l) => l.includes('"msg":"request"')),
      'request lines were captured',
    );
    for (const workflowId of workflowIds) {
      const history = await h.temporal.workflow.getHandle(workflowId).fetchHistory();
      const text = historyText(history);
      // The folder path travels only inside payloads: finding it shows they were decoded.
      assert.ok(text.includes(SITE_A), 'the history was decoded');
      for (const token of tokens) {
        assert.ok(!text.includes(token), `a token in the history of ${workflowId}`);
        assert.ok(!text.includes(Buffer.from(token).toString('base64')), `a base64 token in ${workflowId}`);
      }
    }
  });
});
