/**
 * Secrets: with recognisable Dropbox tokens, an admin's whole session (login, refused logins,
 * map, sync, token replacement, pause/resume, unmap), then a look for the tokens in every API
 * answer (bodies and headers), every log line, every workflow history exported from the dev
 * server and every MongoDB document. Only the connection's ciphertext may hold a token, and it
 * opens to the current one. Then the key change: the API and the worker under another
 * TOKEN_ENCRYPTION_KEY say so clearly, and a token entered again makes the mapping whole. The
 * refresh-token era too: a "Connect with Dropbox" round (its PKCE verifier and code), an admin's
 * own app (its secret, a wrong one, its refresh token), access tokens refreshed by the worker, a
 * revocation and the deletions that revoke at Dropbox.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { inspect, promisify } from 'node:util';
import { BSON } from 'mongodb';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { DefaultLogger, Runtime, type NativeConnection } from '@temporalio/worker';
import { createActivities } from '../../src/activities';
import { FailureTypes } from '../../src/activities/failures';
import { createSyncWorkflows } from '../../src/api/syncWorkflows';
import { readWorkerConfig } from '../../src/config';
import { collections } from '../../src/db/collections';
import { createRepositories } from '../../src/db/repositories';
import { createCredentialsProvider } from '../../src/dropbox/credentials/credentialsProvider';
import type { Mapping } from '../../src/domain/types';
import { createLogger } from '../../src/log';
import { createTokenCipher, TokenKeyMismatchError } from '../../src/security/tokenCipher';
import { connectTemporalWorker, createActivityDeps, createSyncWorker, type SyncWorker } from '../../src/worker';
import { makeVersionCurrent } from '../../src/workerDeployment';
import { eventually } from '../support/eventually';
import { requireEnv } from '../support/testEnv';
import {
  assertError,
  createProjectAdmin,
  dropboxAccount,
  dropboxBase,
  expectStatus,
  type DropboxTestAccount,
  type ProjectAdmin,
} from '../api/fixtures';
import { type ApiAnswer, type ApiHarness, type CallOptions, startApiHarness } from '../api/harness';
import { historyText } from '../api/histories';
import { dumpDatabase } from './support/dbSnapshot';
import { clickConsent } from '../support/consent';

/**
 * The SDK's own log (worker state, activity failures with their stacks and details, core's
 * lines) is kept too: in production it goes to the worker's stderr. Installed before the
 * harness makes the first worker connection.
 */
const sdkLog: string[] = [];
Runtime.install({
  logger: new DefaultLogger('TRACE', (entry) =>
    sdkLog.push(`${entry.level} ${entry.message} ${inspect(entry.meta, { depth: 8 })}`),
  ),
});

const SITE_A = '/Projects/Site A';
const SITE_B = '/Projects/Site B';

/**
 * Every way a token could be written down: as it is, URL-encoded, hex, base64 and base64url at
 * each of the three byte alignments (so a token inside a larger encoded blob is found too), and
 * its random tail alone (a truncated leak).
 */
function leakForms(token: string): string[] {
  const bytes = Buffer.from(token, 'utf8');
  const forms = new Set<string>([token, encodeURIComponent(token), bytes.toString('hex'), token.slice(-24)]);
  for (let shift = 0; shift < 3; shift++) {
    const encoded = Buffer.concat([Buffer.alloc(shift), bytes]).toString('base64');
    const whole = Math.floor((shift + bytes.length) / 3) * 4;
    const inner = encoded.slice(shift > 0 ? 4 : 0, whole);
    forms.add(inner);
    forms.add(inner.replace(/\+/gu, '-').replace(/\//gu, '_'));
  }
  return [...forms];
}

interface Haystack {
  name: string;
  items: number;
  text: string;
}

describe('secrets: a token appears nowhere but sealed, and a changed key is named', () => {
  let h: ApiHarness;
  let admin: ProjectAdmin;
  let account: DropboxTestAccount;
  let connectionId: string;
  let mappingId: string;
  /** Every token handed to the API; `current` is the one the connection holds. */
  const canaries: { label: string; token: string }[] = [];
  let current: string;
  /** Headers and body of every answer this suite got (fixtures' answers are in h.answers). */
  const exchanges: string[] = [];
  const otherKeyLog: string[] = [];
  const extraTaskQueue = `secrets-other-key-${randomBytes(4).toString('hex')}`;
  let otherWorker: { worker: SyncWorker; running: Promise<void>; connection: NativeConnection } | undefined;
  const figures: string[] = [];

  const base = () => dropboxBase(admin);
  const call = async (method: string, path: string, options: CallOptions = {}): Promise<ApiAnswer> => {
    const res = await h.call(method, path, { key: admin.key, ...options });
    exchanges.push(
      `${res.status}\n${[...res.headers].map(([k, v]) => `${k}: ${v}`).join('\n')}\n\n${res.text}`,
    );
    return res;
  };
  const api = (method: string, path: string, body?: unknown) =>
    call(method, `${base()}${path}`, body === undefined ? {} : { body });
  const status = async (id: string) => {
    const res = await api('GET', `/mappings/${id}`);
    expectStatus(res, 200);
    return res.body as { state: string; lastError: string | null; live: boolean };
  };
  const fileNames = async (id: string) => {
    const res = await api('GET', `/mappings/${id}/files?limit=1000`);
    expectStatus(res, 200);
    return (res.body.files as { name: string }[]).map((f) => f.name).sort();
  };

  /** The exported history of every run on both task queues: the CLI's JSON with payloads decoded, and the SDK's. */
  async function exportHistories(): Promise<{ runs: number; text: string }> {
    const cli = requireEnv('TEMPORAL_CLI_PATH');
    const address = requireEnv('TEMPORAL_ADDRESS');
    const namespace = process.env.TEMPORAL_NAMESPACE || 'default';
    const parts: string[] = [];
    let runs = 0;
    const query = `TaskQueue = "${h.taskQueue}" OR TaskQueue = "${extraTaskQueue}"`;
    for await (const info of h.temporal.workflow.list({ query })) {
      runs += 1;
      const { stdout } = await promisify(execFile)(
        cli,
        [
          'workflow',
          'show',
          '-w',
          info.workflowId,
          '-r',
          info.runId,
          '-o',
          'json',
          '--address',
          address,
          '--namespace',
          namespace,
        ],
        { maxBuffer: 64 * 1024 * 1024 },
      );
      parts.push(stdout);
      // Payloads are base64 in the export: decode every one, so their JSON is searched as text.
      JSON.parse(stdout, (key, value: unknown) => {
        if (key === 'data' && typeof value === 'string')
          parts.push(Buffer.from(value, 'base64').toString('utf8'));
        return value;
      });
      parts.push(
        historyText(await h.temporal.workflow.getHandle(info.workflowId, info.runId).fetchHistory()),
      );
    }
    return { runs, text: parts.join('\n') };
  }

  async function haystacks(): Promise<Haystack[]> {
    const histories = await exportHistories();
    const dump = await dumpDatabase(h.db);
    const docs = Object.values(dump).reduce((n, d) => n + d.length, 0);
    const logLines = [...h.logLines, ...otherKeyLog];
    return [
      { name: 'API answers (bodies)', items: h.answers.length, text: h.answers.join('\n') },
      { name: 'API answers (headers and bodies)', items: exchanges.length, text: exchanges.join('\n') },
      { name: 'log lines', items: logLines.length, text: logLines.join('\n') },
      { name: 'SDK log lines', items: sdkLog.length, text: sdkLog.join('\n') },
      { name: 'workflow histories', items: histories.runs, text: histories.text },
      { name: 'MongoDB documents', items: docs, text: BSON.EJSON.stringify(dump, { relaxed: false }) },
    ];
  }

  /** Asserts no form of any canary is anywhere, and that each haystack holds what shows it was read. */
  async function searchEverywhere(title: string): Promise<void> {
    const stacks = await haystacks();
    const found: string[] = [];
    for (const stack of stacks) {
      for (const { label, token } of canaries) {
        for (const form of leakForms(token)) {
          if (stack.text.includes(form)) found.push(`${label} (as "${form.slice(0, 12)}…") in ${stack.name}`);
        }
      }
    }
    const byName = new Map(stacks.map((s) => [s.name, s]));
    // Each haystack really holds the session: a search of empty text proves nothing.
    assert.ok(byName.get('API answers (bodies)')!.text.includes(connectionId));
    assert.ok(byName.get('API answers (headers and bodies)')!.text.includes('x-request-id'));
    assert.ok(byName.get('log lines')!.text.includes('"msg":"request"'));
    assert.ok(byName.get('log lines')!.text.includes('dropbox token replaced'));
    assert.ok(byName.get('SDK log lines')!.text.includes('Worker state changed'));
    assert.ok(byName.get('workflow histories')!.text.includes(SITE_A), 'histories decoded');
    assert.ok(byName.get('MongoDB documents')!.text.includes(account.email));
    assert.ok(byName.get('MongoDB documents')!.text.includes('ciphertext'));
    const bytes = stacks.reduce((n, s) => n + Buffer.byteLength(s.text), 0);
    figures.push(
      `${title}: ${canaries.length} tokens × ${leakForms(canaries[0]!.token).length} forms, ${(bytes / 1024).toFixed(0)} kB searched: ` +
        stacks
          .map((s) => `${s.name} ${s.items} (${(Buffer.byteLength(s.text) / 1024).toFixed(0)} kB)`)
          .join('; ') +
        `; found ${found.length}`,
    );
    assert.deepEqual(found, [], 'a token outside its ciphertext');
  }

  async function storedConnection() {
    const connection = await collections(h.db).connections.findOne({ _id: connectionId });
    assert.ok(connection, 'the connection is stored');
    return connection;
  }

  before(async () => {
    h = await startApiHarness({ worker: true });
    admin = await createProjectAdmin(h);
    account = dropboxAccount(h, 'canary.owner@example.com');
    canaries.push({ label: 'login token', token: account.token });
    current = account.token;
    h.emulator.addFile(account.accountId, `${SITE_A}/plan.pdf`, { content: 'plan' });
    h.emulator.addFile(account.accountId, `${SITE_A}/plan#2?.pdf`, { content: 'bad name' });
    h.emulator.addFolder(account.accountId, `${SITE_A}/Photos`);
    h.emulator.addFile(account.accountId, `${SITE_B}/site-b.dwg`, { content: 'b' });
  });

  after(async () => {
    if (otherWorker) {
      otherWorker.worker.shutdown();
      await otherWorker.running;
      await otherWorker.connection.close();
    }
    if (h) {
      for await (const info of h.temporal.workflow.list({
        query: `TaskQueue = "${extraTaskQueue}" AND ExecutionStatus = "Running"`,
      })) {
        await h.temporal.workflow
          .getHandle(info.workflowId)
          .terminate('suite finished')
          .catch(() => undefined);
      }
    }
    await h?.close();
    if (figures.length > 0) console.log(figures.join('\n'));
  });

  it('logs in (refusing bad tokens), maps, syncs, replaces the token, pauses, resumes and unmaps', async () => {
    const started = Date.now();
    // Refused logins: their tokens reach the API and Dropbox but must be kept nowhere.
    const neverIssued = `sl.SECRET-CANARY-${randomBytes(16).toString('hex')}`;
    const noScope = h.emulator.issueToken(account.accountId, { scopes: ['account_info.read'] });
    const expired = h.emulator.issueToken(account.accountId);
    h.emulator.expireToken(expired);
    const stranger = dropboxAccount(h);
    canaries.push(
      { label: 'never-issued token', token: neverIssued },
      { label: 'token without scope', token: noScope },
      { label: 'expired token', token: expired },
      { label: "another account's token", token: stranger.token },
    );
    const login = (accessToken: string) =>
      api('POST', '/connections', { clientIdentification: account.email, accessToken });
    assertError(await login(neverIssued), 422, 'invalid_token');
    assertError(await login(noScope), 422, 'missing_scope');
    assertError(await login(expired), 422, 'expired_token');
    assertError(await login(stranger.token), 422, 'identity_mismatch');

    const connected = await login(account.token);
    expectStatus(connected, 201);
    connectionId = connected.body.id as string;
    expectStatus(await api('GET', '/connections'), 200);
    expectStatus(
      await api('GET', `/connections/${connectionId}/folders?path=${encodeURIComponent('/Projects')}`),
      200,
    );

    const mapped = await api('POST', '/mappings', { connectionId, dropboxPath: SITE_A });
    expectStatus(mapped, 201);
    mappingId = mapped.body.id as string;
    await eventually(async () => assert.deepEqual(await fileNames(mappingId), ['plan.pdf']), 30_000);
    expectStatus(await api('GET', `/mappings/${mappingId}/rejections`), 200);

    h.emulator.addFile(account.accountId, `${SITE_A}/second.pdf`, { content: 'second' });
    expectStatus(await api('POST', `/mappings/${mappingId}/sync`), 202);
    await eventually(
      async () => assert.deepEqual(await fileNames(mappingId), ['plan.pdf', 'second.pdf']),
      20_000,
    );

    // The content route: the stored bytes, with no token in the answer; the same ids under another
    // project are not found.
    const listed = (await api('GET', `/mappings/${mappingId}/files`)).body.files as { id: string; name: string }[];
    const plan = listed.find((f) => f.name === 'plan.pdf');
    assert.ok(plan);
    const contentPath = `/mappings/${mappingId}/files/${plan.id}/content`;
    await eventually(async () => {
      const res = await fetch(`${h.url}${base()}${contentPath}`, { headers: { authorization: `Bearer ${admin.key}` } });
      const text = await res.text();
      exchanges.push(`${res.status}\n${[...res.headers].map(([k, v]) => `${k}: ${v}`).join('\n')}\n\n${text}`);
      assert.equal(res.status, 200);
      assert.equal(text, 'plan');
    }, 30_000);
    const outsider = await createProjectAdmin(h);
    assertError(
      await call('GET', `${dropboxBase(outsider)}${contentPath}`, { key: outsider.key }),
      404,
      'mapping_not_found',
    );

    // The token expires: the mapping waits for credentials until a new token is saved.
    h.emulator.expireToken(account.token);
    expectStatus(await api('POST', `/mappings/${mappingId}/sync`), 202);
    await eventually(async () => assert.equal((await status(mappingId)).state, 'needs_credentials'), 20_000);
    const replacement = h.emulator.issueToken(account.accountId);
    canaries.push({ label: 'replacement token', token: replacement });
    assertError(
      await api('PUT', `/connections/${connectionId}/token`, { accessToken: stranger.token }),
      422,
      'identity_mismatch',
    );
    expectStatus(await api('PUT', `/connections/${connectionId}/token`, { accessToken: replacement }), 200);
    current = replacement;
    h.emulator.addFile(account.accountId, `${SITE_A}/third.pdf`, { content: 'third' });
    await eventually(async () => {
      assert.equal((await status(mappingId)).state, 'active');
      assert.ok((await fileNames(mappingId)).includes('third.pdf'));
    }, 20_000);

    expectStatus(await api('POST', `/mappings/${mappingId}/pause`), 202);
    await eventually(async () => assert.equal((await status(mappingId)).state, 'paused'));
    expectStatus(await api('POST', `/mappings/${mappingId}/resume`), 202);
    await eventually(async () => assert.equal((await status(mappingId)).state, 'active'));
    expectStatus(await api('GET', '/mappings'), 200);

    expectStatus(await api('DELETE', `/mappings/${mappingId}`), 202);
    const handle = h.temporal.workflow.getHandle(`folder-sync-${mappingId}`);
    await eventually(async () => assert.equal((await handle.describe()).status.name, 'COMPLETED'), 20_000);
    figures.push(
      `session: ${canaries.length} tokens handed to the API, ${exchanges.length} answers in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
  });

  it('connects with Dropbox and with an own app, refreshes in the worker, is revoked and deleted: refresh tokens, app secrets and PKCE verifiers stay sealed', async () => {
    // "Connect with Dropbox": the PKCE verifier exists only sealed in the pending round.
    const oauthAccount = h.emulator.addAccount({ email: 'canary.oauth@example.com' });
    h.emulator.addFile(oauthAccount.accountId, '/OAuth/plan.pdf', { content: 'oauth' });
    const started = await api('POST', '/oauth/start', { clientIdentification: oauthAccount.email });
    expectStatus(started, 200);
    const round = await collections(h.db).oauthStates.findOne({});
    assert.ok(round, 'the round is pending');
    canaries.push({ label: 'PKCE verifier', token: h.deps.cipher.open(round.codeVerifier, { oauthRound: round._id }) });
    const location = await clickConsent(started.body.authorizeUrl as string, { allowAccountId: oauthAccount.accountId });
    canaries.push({ label: 'authorization code', token: new URL(location).searchParams.get('code') ?? '' });
    // From the browser that started the round: its cookie binds the round to it.
    const cookie = started.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    const back = await fetch(location, { redirect: 'manual', headers: { cookie } });
    exchanges.push(`${back.status}\n${[...back.headers].map(([k, v]) => `${k}: ${v}`).join('\n')}\n\n${await back.text()}`);
    assert.equal(back.status, 303);
    const oauthConnectionId = new URL(back.headers.get('location') ?? '', h.url).searchParams.get('connection') ?? '';
    const oauthConnection = await collections(h.db).connections.findOne({ _id: oauthConnectionId });
    assert.ok(oauthConnection?.refreshToken, 'a refresh token is stored, sealed');
    canaries.push(
      { label: 'refresh token from the OAuth round', token: h.deps.cipher.open(oauthConnection.refreshToken, { connectionId: oauthConnection._id }) },
      { label: 'access token from the OAuth round', token: h.deps.cipher.open(oauthConnection.token, { connectionId: oauthConnection._id }) },
    );

    // The admin's own app, with a secret; a wrong secret first. Its tokens live three seconds.
    const own = h.emulator.registerApp({ redirectUris: [], accessTokenLifetimeSeconds: 3 });
    // Another account: the project has one connection per Dropbox account, and this one is connected.
    const ownAccount = h.emulator.addAccount({ email: 'canary.ownapp@example.com' });
    const ownRefresh = h.emulator.grantOffline(own.appKey, ownAccount.accountId);
    const wrongSecret = `wrong-${randomBytes(12).toString('hex')}`;
    canaries.push(
      { label: 'app secret', token: own.appSecret },
      { label: 'wrong app secret', token: wrongSecret },
      { label: "own app's refresh token", token: ownRefresh },
    );
    const ownLogin = (appSecret: string) =>
      api('POST', '/connections', { clientIdentification: ownAccount.email, refreshToken: ownRefresh, appKey: own.appKey, appSecret });
    assertError(await ownLogin(wrongSecret), 422, 'invalid_app_credentials');
    const ownConnection = await ownLogin(own.appSecret);
    expectStatus(ownConnection, 201);
    const ownConnectionId = ownConnection.body.id as string;
    h.emulator.addFile(ownAccount.accountId, '/Projects/Site C/site-c.dwg', { content: 'c' });
    const ownMapping = await api('POST', '/mappings', { connectionId: ownConnectionId, dropboxPath: '/Projects/Site C' });
    expectStatus(ownMapping, 201);
    const ownMappingId = ownMapping.body.id as string;
    await eventually(async () => assert.deepEqual(await fileNames(ownMappingId), ['site-c.dwg']), 30_000);
    // Past a lifetime: the worker refreshes, with the secret, and syncs on.
    await new Promise((r) => setTimeout(r, 3_500));
    const refreshesBefore = h.emulator.tokenCalls().byRefreshToken[ownRefresh] ?? 0;
    h.emulator.addFile(ownAccount.accountId, '/Projects/Site C/after-refresh.dwg', { content: 'r' });
    expectStatus(await api('POST', `/mappings/${ownMappingId}/sync`), 202);
    await eventually(async () => assert.deepEqual(await fileNames(ownMappingId), ['after-refresh.dwg', 'site-c.dwg']), 20_000);
    assert.ok((h.emulator.tokenCalls().byRefreshToken[ownRefresh] ?? 0) > refreshesBefore, 'the worker refreshed');
    const refreshed = await collections(h.db).connections.findOne({ _id: ownConnectionId });
    canaries.push({ label: 'access token refreshed by the worker', token: h.deps.cipher.open(refreshed!.token, { connectionId: ownConnectionId }) });

    // Revoked: the mapping waits for credentials, and says why without any token.
    h.emulator.revokeGrant(ownRefresh);
    await new Promise((r) => setTimeout(r, 3_500));
    expectStatus(await api('POST', `/mappings/${ownMappingId}/sync`), 202);
    await eventually(async () => {
      const seen = await status(ownMappingId);
      assert.equal(seen.state, 'needs_credentials');
      assert.match(seen.lastError ?? '', /Reconnect the Dropbox account/u);
    }, 20_000);
    expectStatus(await api('DELETE', `/mappings/${ownMappingId}`), 202);
    await eventually(async () => {
      const handle = h.temporal.workflow.getHandle(`folder-sync-${ownMappingId}`);
      assert.equal((await handle.describe()).status.name, 'COMPLETED');
    }, 20_000);
    expectStatus(await api('DELETE', `/connections/${ownConnectionId}`), 204);
    expectStatus(await api('DELETE', `/connections/${oauthConnectionId}`), 204);
  });

  it('finds no token in any answer, log line, workflow history or document; the ciphertext opens to the current token', async () => {
    await searchEverywhere('after the session');
    const connection = await storedConnection();
    assert.match(connection.token.keyId, /^[0-9a-f]{16}$/u, 'the key id is stored with the ciphertext');
    assert.equal(h.deps.cipher.open(connection.token, { connectionId: connection._id }), current);
  });

  it('names a changed TOKEN_ENCRYPTION_KEY in the API and the worker, never garbage or a 500, and recovers when the token is entered again', async () => {
    const otherKey = randomBytes(32);
    const otherCipher = createTokenCipher(otherKey);
    const sealedKeyId = (await storedConnection()).token.keyId;
    assert.notEqual(otherCipher.keyId, sealedKeyId);

    // The API under the other key: a clear 422 naming what to do, no details of the key or token.
    const otherApi = await h.serve({
      ...h.deps,
      cipher: otherCipher,
      credentials: createCredentialsProvider({ store: createRepositories(h.db), tokens: h.deps.dropbox, cipher: otherCipher }),
    });
    const viaOther = (method: string, path: string, body?: unknown) =>
      call(method, `${base()}${path}`, { baseUrl: otherApi, ...(body === undefined ? {} : { body }) });
    const mappingsBefore = await collections(h.db).mappings.countDocuments();
    for (const res of [
      await viaOther('GET', `/connections/${connectionId}/folders`),
      await viaOther('POST', '/mappings', { connectionId, dropboxPath: SITE_B }),
    ]) {
      assertError(res, 422, 'token_unreadable');
      assert.match(
        res.body.error.message as string,
        /different TOKEN_ENCRYPTION_KEY \(key id [0-9a-f]{16}\)/u,
      );
      assert.match(res.body.error.message as string, /PUT \.\.\.\/connections\/\{connectionId\}\/token/u);
      assert.equal(res.body.error.details, undefined);
    }
    assert.equal(await collections(h.db).mappings.countDocuments(), mappingsBefore, 'no mapping stored');

    // The worker's side under the other key: the activity fails as credentials, not retried,
    // with the problem named and the key id (never the key) in the message.
    const log = createLogger({ level: 'debug', write: (line) => otherKeyLog.push(line) });
    const config = readWorkerConfig({
      MONGODB_URI: requireEnv('MONGODB_URI'),
      TEMPORAL_ADDRESS: requireEnv('TEMPORAL_ADDRESS'),
      TEMPORAL_NAMESPACE: h.temporal.options.namespace,
      TASK_QUEUE: extraTaskQueue,
      POLL_INTERVAL: String(10 * 60_000),
      DROPBOX_API_URL: h.emulator.url,
      TOKEN_ENCRYPTION_KEY: otherKey.toString('hex'),
    });
    const mapping: Mapping = await h.deps.repos.mappings.create({
      projectId: admin.projectId,
      connectionId,
      dropboxPath: SITE_B,
      targetFolder: 'Site B',
    });
    const deps = createActivityDeps(config, h.db, log);
    const failure = await createActivities(deps)
      .validateToken({ mappingId: mapping._id })
      .then(
        () => assert.fail('the token opened under another key'),
        (err: unknown) => err,
      );
    assert.ok(failure instanceof ApplicationFailure, String(failure));
    assert.equal(failure.type, FailureTypes.credentialsRejected);
    assert.equal(failure.nonRetryable, true);
    assert.deepEqual(failure.details, [{ problem: 'token_unreadable' }]);
    assert.equal(failure.message, new TokenKeyMismatchError(sealedKeyId).message);
    assert.match(failure.message, /different TOKEN_ENCRYPTION_KEY \(key id [0-9a-f]{16}\)/u);
    const stored = await storedConnection();
    assert.throws(() => otherCipher.open(stored.token), TokenKeyMismatchError);

    // End to end: a worker under the other key runs the mapping's workflow; the admin sees why.
    const connection = await connectTemporalWorker(config);
    const worker = await createSyncWorker({ config, connection, deps, tuning: { shutdownGraceTime: '1s' } });
    const running = worker.run();
    // Awaited in after(); until then a failure must not count as unhandled.
    running.catch(() => undefined);
    otherWorker = { worker, running, connection };
    await makeVersionCurrent(connection.workflowService, config.temporal.namespace, worker.version);
    await createSyncWorkflows({
      client: h.temporal,
      taskQueue: extraTaskQueue,
      pollIntervalMs: 10 * 60_000,
      log,
    }).start(mapping);
    await eventually(async () => {
      const seen = await status(mapping._id);
      assert.equal(seen.state, 'needs_credentials');
      assert.equal(seen.lastError, failure.message);
    }, 30_000);
    const recorded = await collections(h.db).mappings.findOne({ _id: mapping._id });
    assert.equal(recorded?.state, 'needs_credentials');
    assert.equal(recorded?.lastError, failure.message);

    // Entering the token again, through the API that has the new key, makes the mapping whole.
    const reentered = h.emulator.issueToken(account.accountId);
    canaries.push({ label: 'token entered again', token: reentered });
    expectStatus(
      await viaOther('PUT', `/connections/${connectionId}/token`, { accessToken: reentered }),
      200,
    );
    current = reentered;
    await eventually(async () => {
      assert.equal((await status(mapping._id)).state, 'active');
      assert.deepEqual(await fileNames(mapping._id), ['site-b.dwg']);
    }, 30_000);
    const resealed = await storedConnection();
    assert.equal(otherCipher.open(resealed.token, { connectionId: resealed._id }), current);
    assert.throws(() => h.deps.cipher.open(resealed.token), TokenKeyMismatchError);

    expectStatus(await api('DELETE', `/mappings/${mapping._id}`), 202);
    const handle = h.temporal.workflow.getHandle(`folder-sync-${mapping._id}`);
    await eventually(async () => assert.equal((await handle.describe()).status.name, 'COMPLETED'), 20_000);
    await searchEverywhere('after the key change');
  });
});
