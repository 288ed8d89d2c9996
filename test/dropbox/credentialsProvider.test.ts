/**
 * The credentials provider over FerretDB and the emulator: when it refreshes (a tenth of the
 * lifetime early), that concurrent callers in two processes' worth of providers share one
 * refresh, that a failing token endpoint is an outage and a refused refresh token a revocation,
 * and that a call answered `expired_access_token` is renewed and made again.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { createActivities } from '../../src/activities';
import { FailureTypes } from '../../src/activities/failures';
import { createRepositories, type Repositories } from '../../src/db/repositories';
import { newId } from '../../src/db/ids';
import { createPathPolicy, DEFAULT_SPECIAL_CHARACTERS } from '../../src/domain/pathPolicy';
import { silentLogger } from '../../src/log';
import type { Connection } from '../../src/domain/types';
import { createDropboxClient } from '../../src/dropbox/client';
import { createCredentialsProvider, refreshDue } from '../../src/dropbox/credentials/credentialsProvider';
import { DropboxCredentialsError, DropboxRateLimitError, DropboxUnavailableError } from '../../src/dropbox/errors';
import { createTokenCipher, TokenDecryptionError } from '../../src/security/tokenCipher';
import { startDropboxEmulator, type DropboxEmulator } from '../../src/dev/dropboxEmulator/index';
import { openTestDb, type TestDb } from '../db/testDb';

describe('credentials provider', () => {
  let testDb: TestDb;
  let repos: Repositories;
  let emulator: DropboxEmulator;
  const cipher = createTokenCipher(randomBytes(32));
  let dropbox: ReturnType<typeof createDropboxClient>;
  let app: { appKey: string; appSecret: string };
  let accountId: string;
  let refreshToken: string;
  let clockOffset = 0;
  const provider = () =>
    createCredentialsProvider({ store: repos, tokens: dropbox, cipher, now: () => Date.now() + clockOffset });

  before(async () => {
    testDb = await openTestDb('credentials');
    repos = createRepositories(testDb.db);
    emulator = await startDropboxEmulator();
    dropbox = createDropboxClient({ apiUrl: emulator.url, requestTimeoutMs: 5_000 });
  });
  after(async () => {
    await emulator.close();
    await testDb.close();
  });
  beforeEach(() => {
    clockOffset = 0;
    emulator.clearFaults();
    app = emulator.registerApp({ redirectUris: [], accessTokenLifetimeSeconds: 15 });
    accountId = emulator.addAccount({ email: `c-${randomBytes(3).toString('hex')}@example.com` }).accountId;
    refreshToken = emulator.grantOffline(app.appKey, accountId);
  });

  /** A connection as the API stores it after checking a refresh token: one refresh already made. */
  async function connection(options: { withSecret?: boolean; projectId?: string } = {}): Promise<Connection> {
    const grant = await dropbox.refreshAccessToken({ refreshToken, ...app });
    const id = newId();
    const bound = { connectionId: id };
    return repos.connections.create({
      id,
      projectId: options.projectId ?? 'p',
      clientIdentification: 'c@example.com',
      accountId,
      accountEmail: 'c@example.com',
      token: cipher.seal(grant.accessToken, bound),
      refresh: {
        refreshToken: cipher.seal(refreshToken, bound),
        appKey: app.appKey,
        ...(options.withSecret === false ? {} : { appSecret: cipher.seal(app.appSecret, bound) }),
        accessTokenExpiresAt: new Date(Date.now() + grant.expiresInSeconds * 1000),
      },
    });
  }
  const refreshes = () => emulator.tokenCalls().byRefreshToken[refreshToken] ?? 0;

  it("goes on under a team account's new root namespace after Dropbox answers invalid_root, and the connection keeps it", async () => {
    const team = emulator.addAccount({ email: `t-${randomBytes(3).toString('hex')}@builders.example`, team: { name: 'Builders Oy' } });
    emulator.addFile(team.accountId, '/Team Projects/plan.pdf');
    const id = newId();
    const created = await repos.connections.create({
      id,
      projectId: 'p',
      clientIdentification: 't@builders.example',
      accountId: team.accountId,
      accountEmail: 't@builders.example',
      rootNamespaceId: team.rootNamespaceId,
      token: cipher.seal(emulator.issueToken(team.accountId), { connectionId: id }),
    });
    await repos.connections.setChangesCursor(id, 'cursor-of-the-old-root');
    const list = async (connection: Connection) =>
      (await dropbox.listFolderPage(await provider().forConnection(connection), { path: '/Team Projects', limit: 10 })).files.map((f) => f.name);
    assert.deepEqual(await list(created), ['plan.pdf']);

    // The team moved to a team space: the old root is refused (422 invalid_root, with the new one).
    const moved = emulator.changeRootNamespace(team.accountId);
    assert.deepEqual(await list((await repos.connections.getById(id))!), ['plan.pdf']);
    const kept = (await repos.connections.getById(id))!;
    assert.equal(kept.rootNamespaceId, moved);
    assert.equal(kept.changesCursor, undefined, "the account's changes are read afresh under the new root");
    assert.deepEqual(await list(kept), ['plan.pdf']);
  });

  it("opens a connection's credentials only from its own record: copied into another connection's, they are refused", async () => {
    const [victim, thief] = [await connection(), await connection({ projectId: 'another-project' })];
    assert.ok((await provider().forConnection(victim)).token);
    await testDb.db.collection<{ _id: string }>('connections').updateOne(
      { _id: thief._id },
      { $set: { token: victim.token, refreshToken: victim.refreshToken, appSecret: victim.appSecret } },
    );
    const copied = await repos.connections.getById(thief._id);
    await assert.rejects(provider().forConnection(copied!), TokenDecryptionError);

    // The refresh token and app secret alone, opened only when a refresh is due.
    const [owner, taker] = [await connection({ projectId: 'a-third-project' }), await connection({ projectId: 'a-fourth-project' })];
    for (const fields of [{ refreshToken: owner.refreshToken }, { appSecret: owner.appSecret }]) {
      await testDb.db.collection<{ _id: string }>('connections').updateOne({ _id: taker._id }, { $set: fields });
      clockOffset = 14_000;
      await assert.rejects(provider().forConnection((await repos.connections.getById(taker._id))!), TokenDecryptionError);
      clockOffset = 0;
      await testDb.db.collection<{ _id: string }>('connections').updateOne(
        { _id: taker._id },
        { $set: { refreshToken: taker.refreshToken, appSecret: taker.appSecret } },
      );
    }
  });

  it('refreshes a tenth of the lifetime before expiry, at most five minutes before', () => {
    const issued = new Date('2026-01-01T00:00:00Z');
    const c = (lifetimeMs: number) =>
      ({ lastRefreshAt: issued, tokenUpdatedAt: issued, accessTokenExpiresAt: new Date(issued.getTime() + lifetimeMs) }) as Connection;
    assert.equal(refreshDue(c(15_000), issued.getTime() + 13_499), false);
    assert.equal(refreshDue(c(15_000), issued.getTime() + 13_500), true);
    const fourHours = 4 * 3_600_000;
    assert.equal(refreshDue(c(fourHours), issued.getTime() + fourHours - 5 * 60_000 - 1), false);
    assert.equal(refreshDue(c(fourHours), issued.getTime() + fourHours - 5 * 60_000), true);
  });

  it('hands out the stored token until it is due, then one refresh for 40 concurrent callers of two providers', async () => {
    const stored = await connection();
    const before = refreshes();
    const first = await provider().forConnection(stored);
    assert.equal(first.token, cipher.open(stored.token, { connectionId: stored._id }));
    assert.equal(refreshes(), before, 'not due yet');

    clockOffset = 14_000;
    const [a, b] = [provider(), provider()];
    const all = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).forConnection(stored)));
    assert.equal(refreshes(), before + 1);
    assert.equal(new Set(all.map((c) => c.token)).size, 1);
    const after = await repos.connections.getById(stored._id);
    assert.equal(cipher.open(after!.token, { connectionId: stored._id }), all[0]?.token);
    assert.ok(after!.accessTokenExpiresAt! > stored.accessTokenExpiresAt!);
    assert.ok(after!.lastRefreshAt! > stored.lastRefreshAt!);
    assert.equal(await testDb.db.collection('refresh_leases').countDocuments({}), 0, 'the lease is released');
  });

  it('treats a failing token endpoint as an outage, and refreshes on the next call', async () => {
    const stored = await connection({ withSecret: true });
    clockOffset = 14_000;
    emulator.failNext({ status: 503, route: 'oauth2/token' });
    await assert.rejects(provider().forConnection(stored), DropboxUnavailableError);
    emulator.failNext({ status: 429, route: 'oauth2/token', retryAfterSeconds: 0 });
    await assert.rejects(provider().forConnection(stored), (err: Error) => err.name === 'DropboxRateLimitError');
    const kept = await repos.connections.getById(stored._id);
    assert.equal(kept!.refreshRefused, undefined, 'not a revocation');
    const fresh = await provider().forConnection(kept!);
    assert.notEqual(fresh.token, cipher.open(stored.token, { connectionId: stored._id }));
  });

  it('refreshes no sooner than Dropbox asked after a 429 from its token endpoint, whichever process asks next', async () => {
    const stored = await connection({ withSecret: true });
    clockOffset = 14_000;
    emulator.failNext({ status: 429, route: 'oauth2/token', retryAfterSeconds: 2 });
    const limitedAt = Date.now();
    await assert.rejects(provider().forConnection(stored), (err: Error) => err.name === 'DropboxRateLimitError');
    const asked = emulator.tokenCalls().total;
    // Another process, even one holding the connection as read before the 429, is refused for
    // what is left of the wait without asking Dropbox.
    await assert.rejects(provider().forConnection(stored), (err: unknown) => {
      assert.ok(err instanceof DropboxRateLimitError);
      assert.ok(err.retryAfterMs > 0 && err.retryAfterMs <= 2_000, String(err.retryAfterMs));
      return true;
    });
    assert.equal(emulator.tokenCalls().total, asked, 'no refresh while Dropbox asked to wait');
    assert.equal(await testDb.db.collection('refresh_leases').countDocuments({}), 0, 'the lease is released');
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, limitedAt + 2_100 - Date.now())));
    const fresh = await provider().forConnection((await repos.connections.getById(stored._id))!);
    assert.notEqual(fresh.token, cipher.open(stored.token, { connectionId: stored._id }));
    assert.equal(emulator.tokenCalls().total, asked + 1);
  });

  it("makes every later call of the connection wait out a 429, whoever makes it, without asking Dropbox meanwhile", async () => {
    const stored = await connection();
    const credentials = await provider().forConnection(stored);
    emulator.failNext({ status: 429, route: 'files/list_folder', retryAfterSeconds: 2 });
    await assert.rejects(dropbox.listFolderPage(credentials, { path: '', limit: 10 }), DropboxRateLimitError);
    const calls = () => emulator.calls().byToken[credentials.token] ?? 0;
    const asked = calls();
    // Another mapping's cycle, or another process: refused before any call, for what is left of the wait.
    const limited = (await repos.connections.getById(stored._id))!;
    await assert.rejects(provider().forConnection(limited), (err: unknown) => {
      assert.ok(err instanceof DropboxRateLimitError);
      assert.ok(err.retryAfterMs > 0 && err.retryAfterMs <= 2_000, String(err.retryAfterMs));
      return true;
    });
    assert.equal(calls(), asked, 'no call while Dropbox asked to wait');
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    const later = await provider().forConnection((await repos.connections.getById(stored._id))!);
    assert.deepEqual((await dropbox.listFolderPage(later, { path: '', limit: 10 })).files, []);
  });

  it("holds the account's other connections too after a 429 (Dropbox limits each user and app), and no longer than the longest wait", async () => {
    const stored = await connection({ projectId: 'p-limit-1' });
    const sibling = await connection({ projectId: 'p-limit-2' });
    const credentials = await provider().forConnection(stored);
    emulator.failNext({ status: 429, route: 'files/list_folder', retryAfterSeconds: 2 });
    await assert.rejects(dropbox.listFolderPage(credentials, { path: '', limit: 10 }), DropboxRateLimitError);
    await assert.rejects(provider().forConnection((await repos.connections.getById(sibling._id))!), DropboxRateLimitError);
    // A shorter wait named later does not cut the longer one short.
    await repos.connections.setRateLimitedUntil(accountId, new Date(Date.now() + 500));
    const held = (await repos.connections.getById(sibling._id))!.rateLimitedUntil!.getTime() - Date.now();
    assert.ok(held > 1_000, `held ${held} ms more`);
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    const later = await provider().forConnection((await repos.connections.getById(sibling._id))!);
    assert.deepEqual((await dropbox.listFolderPage(later, { path: '', limit: 10 })).files, []);
    assert.equal(emulator.violations().length, 0, 'no call before the wait was over');
  });

  it('marks a refused refresh token once, and every later call fails without asking Dropbox', async () => {
    const stored = await connection();
    clockOffset = 14_000;
    emulator.revokeGrant(refreshToken);
    const before = emulator.tokenCalls().total;
    await assert.rejects(provider().forConnection(stored), (err: unknown) => {
      assert.ok(err instanceof DropboxCredentialsError);
      assert.equal(err.problem, 'refresh_refused');
      assert.match(err.message, /Reconnect the Dropbox account/u);
      return true;
    });
    const marked = await repos.connections.getById(stored._id);
    assert.equal(marked!.refreshRefused?.problem, 'invalid_grant');
    await assert.rejects(provider().forConnection(marked!), DropboxCredentialsError);
    assert.equal(emulator.tokenCalls().total, before + 1);
  });

  it('leaves a failing token endpoint to the activity retry policy, and makes a refused refresh token credentialsRejected', async () => {
    const stored = await connection();
    const org = await repos.orgs.create({ name: 'Refresh Construction', features: { dropbox: true } });
    const project = await repos.projects.create({ orgId: org._id, name: 'Refresh site' });
    const mapping = await repos.mappings.create({ projectId: project._id, connectionId: stored._id, dropboxPath: '', targetFolder: 'Dropbox' });
    const activities = createActivities({
      repos,
      dropbox,
      credentials: provider(),
      pathPolicy: createPathPolicy(DEFAULT_SPECIAL_CHARACTERS),
      pageLimit: 100,
      log: silentLogger,
    });
    clockOffset = 14_000;
    emulator.failNext({ status: 503, route: 'oauth2/token' });
    const outage = await activities.validateToken({ mappingId: mapping._id }).then(() => undefined, (err: unknown) => err);
    assert.ok(outage instanceof DropboxUnavailableError, `retried by the activity's policy: ${String(outage)}`);
    assert.equal((await activities.validateToken({ mappingId: mapping._id })).accountId, accountId);

    emulator.revokeGrant(refreshToken);
    const refused = await activities.validateToken({ mappingId: mapping._id }).then(() => undefined, (err: unknown) => err);
    assert.ok(refused instanceof ApplicationFailure, String(refused));
    assert.equal(refused.type, FailureTypes.credentialsRejected);
    assert.equal(refused.nonRetryable, true);
    assert.deepEqual(refused.details, [{ problem: 'refresh_refused', requiredScope: null }]);
    assert.match(refused.message, /Reconnect the Dropbox account/u);
  });

  it('renews a token Dropbox answers expired_access_token for and makes the call again', async () => {
    const stored = await connection();
    const credentials = await provider().forConnection(stored);
    emulator.expireToken(credentials.token);
    const before = refreshes();
    const account = await dropbox.getAccount(credentials);
    assert.equal(account.accountId, accountId);
    assert.equal(refreshes(), before + 1);
    assert.notEqual(credentials.token, cipher.open(stored.token, { connectionId: stored._id }));
  });

  it('renews the token of a download answered expired_access_token, as of every other call', async () => {
    emulator.addFile(accountId, '/Site/plan.pdf', { content: 'the plan' });
    const stored = await connection();
    const credentials = await provider().forConnection(stored);
    emulator.expireToken(credentials.token);
    const before = refreshes();
    await dropbox.checkFileContentScope(credentials);
    assert.equal(refreshes(), before + 1, 'the content-scope probe renewed the token');
    emulator.expireToken(credentials.token);
    const { file, body } = await dropbox.download(credentials, { path: '/Site/plan.pdf' });
    assert.equal(file.name, 'plan.pdf');
    assert.equal(Buffer.concat(await body.toArray()).toString(), 'the plan');
    assert.equal(refreshes(), before + 2);
  });
});
