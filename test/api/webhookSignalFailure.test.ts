/**
 * A change notification whose `syncNow` could not reach Temporal keeps the connection's changes
 * cursor where it was, so the next notification reads the same change again and tells the mapping.
 * Two APIs over the same MongoDB and emulator: one whose Temporal client reaches nothing (a real
 * client, its calls refused), and the harness's own. No webhook is registered in the emulator:
 * the test sends each notification itself, signed as Dropbox signs them.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { createSyncWorkflows } from '../../src/api/syncWorkflows';
import { folderSyncWorkflowId } from '../../src/workflows/definitions';
import { eventually } from '../support/eventually';
import { connect, createProjectAdmin, dropboxAccount, dropboxBase, expectStatus } from './fixtures';
import { type ApiHarness, startApiHarness } from './harness';

const FOLDER = '/Projects/Site A';

describe('a change notification whose signal failed', () => {
  let h: ApiHarness;
  let unreachable: Connection;

  before(async () => {
    h = await startApiHarness();
  });
  after(async () => {
    await unreachable?.close();
    await h?.close();
  });

  it('keeps the changes cursor, and the next notification signals the mapping for the same change', async () => {
    const admin = await createProjectAdmin(h);
    const account = dropboxAccount(h);
    h.emulator.addFile(account.accountId, `${FOLDER}/first.pdf`);
    const connectionId = await connect(h, admin, account);
    const mapping = await h.call('POST', `${dropboxBase(admin)}/mappings`, {
      key: admin.key,
      body: { connectionId, dropboxPath: FOLDER },
    });
    expectStatus(mapping, 201);
    const workflow = h.temporal.workflow.getHandle(folderSyncWorkflowId(mapping.body.id as string));

    // No retries: the default interceptor would retry a refused call for about a minute.
    unreachable = Connection.lazy({ address: '127.0.0.1:1', interceptors: [] });
    const brokenApi = await h.serve({
      ...h.deps,
      syncWorkflows: createSyncWorkflows({
        client: new Client({ connection: unreachable }),
        taskQueue: h.taskQueue,
        pollIntervalMs: 600_000,
        log: h.deps.log,
      }),
    });

    const handledLines = () => h.logLines.filter((l) => l.includes('webhook notification handled'));
    /** Sends a notification of the account to an API; the log line of its handling. */
    const notify = async (apiUrl: string): Promise<string> => {
      const seen = handledLines().length;
      const body = JSON.stringify({ list_folder: { accounts: [account.accountId] } });
      const res = await fetch(`${apiUrl}/v1/dropbox/webhook`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-dropbox-signature': createHmac('sha256', h.appSecret).update(body).digest('hex'),
        },
        body,
      });
      assert.equal(res.status, 200);
      return eventually(() => {
        const line = handledLines()[seen];
        assert.ok(line, 'the notification was handled');
        return line;
      });
    };
    const cursor = async () => (await h.deps.repos.connections.getById(connectionId))?.changesCursor;
    const syncNowSignals = async () => {
      const { events } = await workflow.fetchHistory();
      return (events ?? []).filter(
        (e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'syncNow',
      ).length;
    };

    // The connection's first notification: no cursor yet, so every mapping syncs; the look's
    // cursor is kept from then on.
    const first = await notify(h.url);
    assert.match(first, /"signalled":1,"failed":0/u);
    const saved = await cursor();
    assert.ok(saved, 'a changes cursor after the first notification');
    const signalsBefore = await syncNowSignals();

    h.emulator.addFile(account.accountId, `${FOLDER}/second.pdf`);
    const failed = await notify(brokenApi);
    assert.match(failed, /"signalled":0,"failed":1,"unchanged":0/u);
    assert.ok(h.logLines.some((l) => l.includes('syncNow after a change notification failed')));
    assert.equal(await cursor(), saved, 'the cursor stays before the change that was not told');
    assert.equal(await syncNowSignals(), signalsBefore);

    // Read again from the kept cursor: the folder changed, so its mapping is told now.
    const retried = await notify(h.url);
    assert.match(retried, /"signalled":1,"failed":0,"unchanged":0/u);
    assert.equal(await syncNowSignals(), signalsBefore + 1);
    const moved = await cursor();
    assert.ok(moved && moved !== saved, 'the cursor moved past the change once it was told');

    // Nothing changed since: the mapping is not told again.
    const quiet = await notify(h.url);
    assert.match(quiet, /"signalled":0,"failed":0,"unchanged":1/u);
  });
});
