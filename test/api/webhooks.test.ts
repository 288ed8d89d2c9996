/**
 * Dropbox webhooks end to end: the emulator notifies the API as Dropbox does, the API signals
 * the mappings' workflows on the dev server, a worker in-process syncs. The poll interval is ten
 * minutes, so whatever arrives within seconds arrived because of a notification.
 */
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { folderSyncWorkflowId, statusQuery } from '../../src/workflows/definitions';
import { eventually } from '../support/eventually';
import {
  createProjectAdmin,
  dropboxAccount,
  dropboxBase,
  expectStatus,
  type DropboxTestAccount,
  type ProjectAdmin,
} from './fixtures';
import { dropboxAppSecrets } from '../../src/api/webhookRouter';
import { createTokenCipher } from '../../src/security/tokenCipher';
import { type ApiHarness, HARNESS_APP_KEY, startApiHarness } from './harness';

const FOLDER = '/Projects/Site A';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('Dropbox webhooks', () => {
  let h: ApiHarness;
  let admin: ProjectAdmin;

  const sign = (body: string, secret = h.appSecret) =>
    createHmac('sha256', secret).update(body).digest('hex');
  const notification = (...accounts: string[]) =>
    JSON.stringify({ list_folder: { accounts }, delta: { users: accounts.map((_, i) => 1000 + i) } });
  const notify = (body: string, signature: string | undefined, path = '/v1/dropbox/webhook') =>
    h.call('POST', path, {
      rawBody: body,
      headers: {
        'content-type': 'application/json',
        ...(signature === undefined ? {} : { 'x-dropbox-signature': signature }),
      },
    });

  const api = (method: string, path: string) =>
    h.call(method, `${dropboxBase(admin)}${path}`, { key: admin.key });
  const fileNames = async (mappingId: string) => {
    const res = await api('GET', `/mappings/${mappingId}/files?limit=1000`);
    expectStatus(res, 200);
    return (res.body.files as { name: string }[]).map((f) => f.name).sort();
  };
  const cycles = async (mappingId: string) => {
    const status = await h.temporal.workflow.getHandle(folderSyncWorkflowId(mappingId)).query(statusQuery);
    return status.counters.cycles;
  };
  /** Token checks Dropbox saw for the account: one per cycle. */
  const tokenChecks = (account: DropboxTestAccount) =>
    h.emulator.calls().byTokenAndRoute['users/get_current_account']?.[account.token] ?? 0;

  /** Listings Dropbox saw for the account: whole folders, and changes since a cursor. */
  const listings = (account: DropboxTestAccount) => {
    const byRoute = h.emulator.calls().byTokenAndRoute;
    return {
      full: byRoute['files/list_folder']?.[account.token] ?? 0,
      sinceCursor: byRoute['files/list_folder/continue']?.[account.token] ?? 0,
    };
  };

  /**
   * A connected account with one mapped folder holding `first.pdf`, synced, and the number of
   * cycles it ran (a notification of the setup's own writes may have run one more).
   */
  async function mappedFolder(
    credentials: (account: DropboxTestAccount) => Record<string, string> = (account) => ({
      accessToken: account.token,
    }),
  ): Promise<{
    account: DropboxTestAccount;
    connectionId: string;
    mappingId: string;
    ran: number;
  }> {
    const account = dropboxAccount(h);
    h.emulator.addFile(account.accountId, `${FOLDER}/first.pdf`);
    const connection = await h.call('POST', `${dropboxBase(admin)}/connections`, {
      key: admin.key,
      body: { clientIdentification: account.email, ...credentials(account) },
    });
    expectStatus(connection, 201);
    const mapping = await h.call('POST', `${dropboxBase(admin)}/mappings`, {
      key: admin.key,
      body: { connectionId: connection.body.id, dropboxPath: FOLDER },
    });
    expectStatus(mapping, 201);
    const mappingId = mapping.body.id as string;
    await eventually(async () => assert.deepEqual(await fileNames(mappingId), ['first.pdf']));
    // Settled: the notification of first.pdf delivered (a slow one may find the new mapping and
    // run a second cycle), and the workflow waiting for its next interval.
    await eventually(async () => {
      const counts = h.emulator.webhookCounts();
      assert.equal(counts.delivered + counts.abandoned, counts.notifications);
      const status = await h.temporal.workflow.getHandle(folderSyncWorkflowId(mappingId)).query(statusQuery);
      assert.ok(status.counters.cycles >= 1 && status.phase === 'waiting', JSON.stringify(status));
    });
    await sleep(1_000);
    return { account, connectionId: connection.body.id as string, mappingId, ran: await cycles(mappingId) };
  }

  before(async () => {
    h = await startApiHarness({ worker: true });
    admin = await createProjectAdmin(h);
  });
  after(async () => {
    await h?.close();
  });

  it('echoes the challenge as text/plain with nosniff, on both webhook routes', async () => {
    for (const path of ['/v1/dropbox/webhook', `/v1/dropbox/webhook/${HARNESS_APP_KEY}`]) {
      const res = await fetch(`${h.url}${path}?challenge=a1B2-c3_d4`);
      assert.equal(res.status, 200, path);
      assert.match(res.headers.get('content-type') ?? '', /^text\/plain/u);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(await res.text(), 'a1B2-c3_d4');
    }
    const missing = await fetch(`${h.url}/v1/dropbox/webhook`);
    assert.equal(missing.status, 400);
  });

  // Before any webhook is registered with the emulator: the only notifications are the test's own.
  it('answers 403 to a forged, missing or misshapen signature and starts no cycle', async () => {
    const { account, mappingId, ran } = await mappedFolder();
    h.emulator.addFile(account.accountId, `${FOLDER}/waiting.pdf`);
    // Not every call: the first file's bytes may still be on their way.
    const syncCalls = () =>
      [
        'users/get_current_account',
        'files/list_folder',
        'files/list_folder/continue',
        'files/list_folder/get_latest_cursor',
      ]
        .map((route) => h.emulator.calls().byTokenAndRoute[route]?.[account.token] ?? 0)
        .reduce((a, b) => a + b, 0);
    const callsBefore = syncCalls();
    const body = notification(account.accountId);
    const attempts: [string, string | undefined, string?][] = [
      ['missing', undefined],
      ['another secret', sign(body, 'not-the-app-secret')],
      ['another body', sign(notification(account.accountId, 'dbid:other'))],
      ['truncated', sign(body).slice(0, 63)],
      ['not hex', 'z'.repeat(64)],
      ['upper case of a wrong one', sign(body, 'x').toUpperCase()],
      ['unknown app key', sign(body), '/v1/dropbox/webhook/someone-elses-app'],
    ];
    for (const [what, signature, path] of attempts) {
      const res = await notify(body, signature, path);
      assert.equal(res.status, 403, `${what}: ${res.text}`);
      assert.equal(res.body.error.code, 'invalid_signature');
    }
    await sleep(2_000);
    assert.equal(syncCalls(), callsBefore, 'no Dropbox call');
    assert.equal(await cycles(mappingId), ran, 'no cycle');
    assert.deepEqual(await fileNames(mappingId), ['first.pdf']);
    // The same body, rightly signed, is accepted: the refusals above were for the signature alone.
    const accepted = await notify(body, sign(body), `/v1/dropbox/webhook/${HARNESS_APP_KEY}`);
    assert.equal(accepted.status, 200);
    await eventually(async () => assert.deepEqual(await fileNames(mappingId), ['first.pdf', 'waiting.pdf']));
    assert.equal(await cycles(mappingId), ran + 1);
  });

  // Also before any webhook is registered: what syncs came through the admin's own app's route.
  it("verifies a notification to an admin's own app's route with the secret kept on its connection, and syncs", async () => {
    const own = h.emulator.registerApp({ redirectUris: [] });
    const { account, mappingId, ran } = await mappedFolder((a) => ({
      refreshToken: h.emulator.grantOffline(own.appKey, a.accountId),
      appKey: own.appKey,
      appSecret: own.appSecret,
    }));
    h.emulator.addFile(account.accountId, `${FOLDER}/own-app.pdf`);
    const body = notification(account.accountId);
    const path = `/v1/dropbox/webhook/${own.appKey}`;
    const withServiceSecret = await notify(body, sign(body), path);
    assert.equal(withServiceSecret.status, 403, "the service's secret does not sign for the admin's app");
    await sleep(1_000);
    assert.equal(await cycles(mappingId), ran, 'no cycle');
    const accepted = await notify(body, sign(body, own.appSecret), path);
    assert.equal(accepted.status, 200, accepted.text);
    await eventually(async () => assert.deepEqual(await fileNames(mappingId), ['first.pdf', 'own-app.pdf']), 10_000);
    assert.equal(await cycles(mappingId), ran + 1);

    // Under another TOKEN_ENCRYPTION_KEY the kept secret cannot be opened: refused and said, not a 500.
    const otherKey = h.serve({
      ...h.deps,
      dropboxApps: dropboxAppSecrets({
        config: { dropbox: { appKey: HARNESS_APP_KEY, appSecret: h.appSecret } },
        connections: h.deps.repos.connections,
        cipher: createTokenCipher(randomBytes(32)),
      }),
    });
    const linesBefore = h.logLines.length;
    const refused = await h.call('POST', path, {
      baseUrl: await otherKey,
      rawBody: body,
      headers: { 'content-type': 'application/json', 'x-dropbox-signature': sign(body, own.appSecret) },
    });
    assert.equal(refused.status, 403, refused.text);
    assert.ok(h.logLines.slice(linesBefore).some((l) => l.includes('cannot be decrypted with TOKEN_ENCRYPTION_KEY')));
  });

  it("syncs only the connections made with an admin's own app on that app's notification, never another tenant's", async () => {
    const own = h.emulator.registerApp({ redirectUris: [] });
    const ownApp = await mappedFolder((a) => ({
      refreshToken: h.emulator.grantOffline(own.appKey, a.accountId),
      appKey: own.appKey,
      appSecret: own.appSecret,
    }));
    // Another project's account, connected with a pasted token: nothing of the admin's app.
    const pasted = await mappedFolder();
    h.emulator.addFile(pasted.account.accountId, `${FOLDER}/not-yours.pdf`);
    h.emulator.addFile(ownApp.account.accountId, `${FOLDER}/yours.pdf`);
    const body = notification(pasted.account.accountId, ownApp.account.accountId);
    const accepted = await notify(body, sign(body, own.appSecret), `/v1/dropbox/webhook/${own.appKey}`);
    assert.equal(accepted.status, 200, accepted.text);
    await eventually(async () => assert.deepEqual(await fileNames(ownApp.mappingId), ['first.pdf', 'yours.pdf']), 10_000);
    await sleep(1_000);
    assert.equal(await cycles(pasted.mappingId), pasted.ran, "the other tenant's mapping ran no cycle");
    assert.deepEqual(await fileNames(pasted.mappingId), ['first.pdf']);
  });

  it('makes a file added in Dropbox readable through the API within seconds of the emulator notifying', async () => {
    const { account, mappingId, ran } = await mappedFolder();
    await h.emulator.registerWebhook({
      appKey: HARNESS_APP_KEY,
      appSecret: h.appSecret,
      uri: `${h.url}/v1/dropbox/webhook`,
    });
    const before = h.emulator.webhookCounts().delivered;
    const listedBefore = listings(account);
    const written = Date.now();
    h.emulator.addFile(account.accountId, `${FOLDER}/second.pdf`);
    await eventually(
      async () => assert.deepEqual(await fileNames(mappingId), ['first.pdf', 'second.pdf']),
      10_000,
      50,
    );
    const latencyMs = Date.now() - written;
    console.log(`file readable ${latencyMs} ms after the write`);
    assert.ok(latencyMs < 5_000, `${latencyMs} ms`);
    assert.equal(h.emulator.webhookCounts().delivered, before + 1);
    // The file is readable once its page is recorded; the cycle counts itself a moment later.
    await eventually(async () => assert.ok((await cycles(mappingId)) > ran, 'the notification started a cycle'));
    assert.equal(await cycles(mappingId), ran + 1, 'one cycle, started by the notification');
    // That cycle listed from the saved cursor: what changed since, not the folder again.
    assert.deepEqual(listings(account), {
      full: listedBefore.full,
      sinceCursor: listedBefore.sinceCursor + 1,
    });
  });

  it("syncs only the mapped folders that changed, as the account's changes since its last notification tell", async () => {
    const SITE_B = '/Projects/Site B';
    const { account, connectionId, mappingId: siteA } = await mappedFolder();
    h.emulator.addFolder(account.accountId, `${FOLDER}/Drawings`);
    h.emulator.addFile(account.accountId, `${SITE_B}/b.pdf`);
    const created = await h.call('POST', `${dropboxBase(admin)}/mappings`, {
      key: admin.key,
      body: { connectionId, dropboxPath: SITE_B },
    });
    expectStatus(created, 201);
    const siteB = created.body.id as string;
    await eventually(async () => assert.deepEqual(await fileNames(siteB), ['b.pdf']));
    // The connection's first notification read no changes (every mapping synced): its look at the
    // account's changes starts from where that one ended.
    await eventually(async () => {
      assert.ok((await h.deps.repos.connections.getById(connectionId))?.changesCursor, 'a changes cursor');
      const counts = h.emulator.webhookCounts();
      assert.equal(counts.delivered + counts.abandoned, counts.notifications);
      for (const id of [siteA, siteB]) {
        const status = await h.temporal.workflow.getHandle(folderSyncWorkflowId(id)).query(statusQuery);
        assert.equal(status.phase, 'waiting');
      }
    });
    await sleep(1_000);

    /** Makes a change, waits for its notification to be handled; the cycles each mapping ran since, and the log line. */
    const afterChange = async (change: () => void) => {
      const before = { a: await cycles(siteA), b: await cycles(siteB), lines: h.logLines.length };
      change();
      const handled = await eventually(() => {
        const line = h.logLines.slice(before.lines).find((l) => l.includes('webhook notification handled'));
        assert.ok(line, 'the notification was handled');
        return line;
      });
      await sleep(1_500);
      return { a: (await cycles(siteA)) - before.a, b: (await cycles(siteB)) - before.b, handled };
    };

    const inA = await afterChange(() => h.emulator.addFile(account.accountId, `${FOLDER}/second.pdf`));
    assert.deepEqual([inA.a, inA.b], [1, 0], inA.handled);
    assert.match(inA.handled, /"mappings":2,"signalled":1,"failed":0,"unchanged":1/u);
    assert.deepEqual(await fileNames(siteA), ['first.pdf', 'second.pdf']);

    const inSubfolder = await afterChange(() =>
      h.emulator.addFile(account.accountId, `${FOLDER}/Drawings/plan.dwg`),
    );
    assert.deepEqual([inSubfolder.a, inSubfolder.b], [0, 0], inSubfolder.handled);
    assert.match(inSubfolder.handled, /"signalled":0,"failed":0,"unchanged":2/u);

    const inB = await afterChange(() => h.emulator.addFile(account.accountId, `${SITE_B}/c.pdf`));
    assert.deepEqual([inB.a, inB.b], [0, 1], inB.handled);
    assert.deepEqual(await fileNames(siteB), ['b.pdf', 'c.pdf']);

    // Dropbox reset the account's cursors: what changed cannot be told, so every mapping syncs,
    // and the next look starts afresh.
    h.emulator.forceCursorReset(account.accountId);
    const reset = await afterChange(() => h.emulator.addFile(account.accountId, `${FOLDER}/third.pdf`));
    assert.deepEqual([reset.a, reset.b], [1, 1], reset.handled);
    assert.match(reset.handled, /"signalled":2,"failed":0,"unchanged":0/u);
    assert.equal((await h.deps.repos.connections.getById(connectionId))?.changesCursor, undefined);
    assert.ok(h.logLines.some((l) => l.includes('changes of a Dropbox account could not be read')));
    await eventually(async () =>
      assert.deepEqual(await fileNames(siteA), ['first.pdf', 'second.pdf', 'third.pdf']),
    );
  });

  it('runs at most two cycles for a burst of 100 notifications while a cycle is in flight', async () => {
    const { account, mappingId, ran: ranBefore } = await mappedFolder();
    const checksBefore = tokenChecks(account);

    // Each Dropbox call takes 500 ms, so the burst lands while the first cycle lists.
    h.emulator.setFaults({ latencyMs: 500 });
    try {
      h.emulator.bulkAddFiles(account.accountId, FOLDER, 100);
      const body = notification(account.accountId);
      const answers = await Promise.all(Array.from({ length: 100 }, () => notify(body, sign(body))));
      assert.ok(answers.every((a) => a.status === 200));
      await eventually(async () => assert.equal((await fileNames(mappingId)).length, 101), 20_000);
      await sleep(4_000);
    } finally {
      h.emulator.setFaults({ latencyMs: 0 });
    }
    const ran = (await cycles(mappingId)) - ranBefore;
    const checks = tokenChecks(account) - checksBefore;
    console.log(`100 notifications: ${ran} cycles, ${checks} token checks`);
    assert.ok(ran >= 1 && ran <= 2, `${ran} cycles`);
    assert.equal(checks, ran);
  });

  it('refuses every notification with 403, and says why in the log, when DROPBOX_APP_SECRET is not set', async () => {
    const { account, mappingId, ran } = await mappedFolder();
    const unset = await h.serve({
      ...h.deps,
      dropboxApps: dropboxAppSecrets({
        config: { dropbox: { appKey: HARNESS_APP_KEY, appSecret: undefined } },
        connections: h.deps.repos.connections,
        cipher: h.deps.cipher,
      }),
    });
    const linesBefore = h.logLines.length;
    const body = notification(account.accountId);
    for (const path of ['/v1/dropbox/webhook', `/v1/dropbox/webhook/${HARNESS_APP_KEY}`]) {
      const res = await h.call('POST', path, {
        baseUrl: unset,
        rawBody: body,
        headers: { 'content-type': 'application/json', 'x-dropbox-signature': sign(body) },
      });
      assert.equal(res.status, 403, res.text);
    }
    assert.ok(h.logLines.slice(linesBefore).some((l) => l.includes('DROPBOX_APP_SECRET is not set')));
    await sleep(1_000);
    assert.equal(await cycles(mappingId), ran);
  });

  it('answers 200 to a notification for an account without mappings and does nothing else', async () => {
    const loner = dropboxAccount(h);
    // Earlier tests' mappings may still be copying contents in the background: count this account's calls.
    const lonerCalls = () => h.emulator.calls().byToken[loner.token] ?? 0;
    const callsBefore = lonerCalls();
    const running = async () => {
      let n = 0;
      for await (const _ of h.temporal.workflow.list({ query: `TaskQueue = "${h.taskQueue}"` })) n += 1;
      return n;
    };
    const workflowsBefore = await running();
    const linesBefore = h.logLines.length;
    const body = notification(loner.accountId, 'dbid:AAnobody-we-know-of');
    const res = await notify(body, sign(body));
    assert.equal(res.status, 200);
    assert.equal(res.text, '');
    await eventually(() =>
      assert.ok(h.logLines.slice(linesBefore).some((l) => l.includes('webhook notification handled'))),
    );
    const handled = h.logLines.slice(linesBefore).find((l) => l.includes('webhook notification handled'))!;
    assert.match(handled, /"accounts":2/u);
    assert.match(handled, /"mappings":0/u);
    assert.equal(lonerCalls(), callsBefore, 'no Dropbox call');
    assert.equal(await running(), workflowsBefore, 'no workflow started');
  });
});
