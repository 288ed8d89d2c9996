/**
 * An organization that loses the Dropbox feature stops syncing, not only its routes: the
 * mappings' next cycle touches nothing in Dropbox and records nothing; given the feature back,
 * they sync at once. The poll interval is ten minutes, so every cycle here is one the test (or
 * the feature coming back) started.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { folderSyncWorkflowId, statusQuery, syncNowSignal } from '../../src/workflows/definitions';
import { FEATURE_DISABLED_MESSAGE } from '../../src/api/projectAccess';
import { eventually } from '../support/eventually';
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

const FOLDER = '/Projects/Site F';

describe('the Dropbox feature taken away and given back', () => {
  let h: ApiHarness;
  let admin: ProjectAdmin;

  before(async () => {
    h = await startApiHarness({ worker: true });
    admin = await createProjectAdmin(h);
  });
  after(async () => {
    await h?.close();
  });

  const api = (method: string, path: string) => h.call(method, `${dropboxBase(admin)}${path}`, { key: admin.key });
  const setFeature = async (dropbox: boolean) =>
    expectStatus(await h.call('PATCH', `/v1/orgs/${admin.orgId}`, { key: h.rootKey, body: { features: { dropbox } } }), 200);

  it('stops every Dropbox call and record while the feature is off, and syncs at once when it is back', async () => {
    const account = dropboxAccount(h);
    h.emulator.addFile(account.accountId, `${FOLDER}/first.pdf`);
    const connectionId = await connect(h, admin, account);
    const mapping = await h.call('POST', `${dropboxBase(admin)}/mappings`, {
      key: admin.key,
      body: { connectionId, dropboxPath: FOLDER },
    });
    expectStatus(mapping, 201);
    const mappingId = mapping.body.id as string;
    const handle = h.temporal.workflow.getHandle(folderSyncWorkflowId(mappingId));
    const first = await eventually(async () => {
      const res = await api('GET', `/mappings/${mappingId}/files`);
      const [file] = res.body.files as { id: string; name: string; contentState: string }[];
      assert.equal(file?.contentState, 'stored');
      return file;
    });
    const link = await api('POST', `/mappings/${mappingId}/files/${encodeURIComponent(first.id)}/content-link`);
    expectStatus(link, 201);
    await eventually(async () => assert.equal((await handle.query(statusQuery)).phase, 'waiting'));

    await setFeature(false);
    h.emulator.addFile(account.accountId, `${FOLDER}/second.pdf`);
    const callsBefore = h.emulator.calls().total;
    await handle.signal(syncNowSignal);
    const stopped = await eventually(async () => {
      const status = await handle.query(statusQuery);
      assert.equal(status.state, 'feature_disabled');
      assert.equal(status.phase, 'waiting');
      return status;
    });
    assert.match(stopped.lastError ?? '', /Dropbox feature is turned off/u);
    assert.equal(h.emulator.calls().total, callsBefore, 'no Dropbox call, not even a token check');
    const files = h.db.collection('files');
    assert.equal(await files.countDocuments({ mappingId }), 1, 'second.pdf is not recorded');
    await eventually(async () =>
      assert.equal((await h.db.collection('mappings').findOne({ _id: mappingId as never }))?.state, 'feature_disabled'),
    );
    // Every Dropbox route says why, a download link made before included.
    const refused = await h.call('GET', link.body.url as string);
    assertError(refused, 403, 'feature_disabled');
    assert.equal(refused.body.error.message, FEATURE_DISABLED_MESSAGE);
    assertError(await api('GET', `/mappings/${mappingId}`), 403, 'feature_disabled');

    await setFeature(true);
    await eventually(async () => {
      const res = await api('GET', `/mappings/${mappingId}/files`);
      assert.deepEqual((res.body.files as { name: string }[]).map((f) => f.name).sort(), ['first.pdf', 'second.pdf']);
    }, 10_000);
    const resumed = await eventually(async () => {
      const status = await handle.query(statusQuery);
      assert.equal(status.state, 'active');
      return status;
    });
    assert.equal(resumed.lastError, null);
    assert.equal((await fetch(`${h.url}${link.body.url as string}`)).status, 200, 'the link serves again');
  });
});
