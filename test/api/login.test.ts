/**
 * "Login": every way a token can be refused, each with its own code and a message that says
 * what to fix, and nothing stored when it is refused.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { createDropboxClient } from '../../src/dropbox/client';
import {
  assertError,
  createProjectAdmin,
  dropboxAccount,
  dropboxBase,
  expectStatus,
  type ProjectAdmin,
} from './fixtures';
import { type ApiHarness, startApiHarness } from './harness';

describe('login (POST .../dropbox/connections)', () => {
  let h: ApiHarness;
  let admin: ProjectAdmin;

  const login = (clientIdentification: string, accessToken: string, baseUrl?: string) =>
    h.call('POST', `${dropboxBase(admin)}/connections`, {
      key: admin.key,
      body: { clientIdentification, accessToken },
      ...(baseUrl ? { baseUrl } : {}),
    });

  before(async () => {
    h = await startApiHarness();
    admin = await createProjectAdmin(h);
  });

  afterEach(async () => {
    h.emulator.clearFaults();
    // Whatever a refused login did, nothing was stored.
    const list = await h.call('GET', `${dropboxBase(admin)}/connections`, { key: admin.key });
    assert.deepEqual(list.body, { connections: [] });
  });

  after(async () => {
    await h?.close();
  });

  it('refuses a token Dropbox does not know with 422 invalid_token', async () => {
    const account = dropboxAccount(h);
    const res = await login(account.email, 'sl.not-a-real-token-at-all');
    assertError(res, 422, 'invalid_token');
    assert.match(res.body.error.message, /Generate a new access token/u);
    // A paste cut short, which Dropbox calls malformed (a 400): the same answer, not "try again later".
    const cut = await login(account.email, account.token.slice(0, 8));
    assertError(cut, 422, 'invalid_token');
  });

  it('refuses an expired token with 422 expired_token', async () => {
    const account = dropboxAccount(h);
    h.emulator.expireToken(account.token);
    const res = await login(account.email, account.token);
    assertError(res, 422, 'expired_token');
    assert.match(res.body.error.message, /expired/u);
  });

  it('refuses a token without files.metadata.read with 422 missing_scope naming the scope', async () => {
    const account = dropboxAccount(h, undefined, { scopes: ['account_info.read'] });
    const res = await login(account.email, account.token);
    assertError(res, 422, 'missing_scope');
    assert.match(res.body.error.message, /files\.metadata\.read/u);
    assert.equal(res.body.error.details.requiredScope, 'files.metadata.read');
  });

  it('refuses a token of another account with 422 identity_mismatch, without telling whose it is', async () => {
    const mine = dropboxAccount(h, 'mine@example.com');
    const theirs = dropboxAccount(h, 'someone.else@example.com');
    const res = await login(mine.email, theirs.token);
    assertError(res, 422, 'identity_mismatch');
    assert.match(res.body.error.message, /mine@example\.com/u);
    assert.ok(!res.text.includes('someone.else'), 'the other account stays unnamed');
  });

  it('answers 502 dropbox_unavailable while Dropbox answers 5xx', async () => {
    const account = dropboxAccount(h);
    h.emulator.setFaults({ serverErrorRate: 1 });
    assertError(await login(account.email, account.token), 502, 'dropbox_unavailable');
  });

  it('answers 503 dropbox_unavailable while Dropbox rate-limits', async () => {
    const account = dropboxAccount(h);
    h.emulator.setFaults({ rateLimitRate: 1, retryAfterSeconds: 3 });
    const res = await login(account.email, account.token);
    assertError(res, 503, 'dropbox_unavailable');
    assert.equal(res.body.error.details.retryAfterSeconds, 3);
  });

  it('answers 503 dropbox_unavailable when Dropbox cannot be reached', async () => {
    const account = dropboxAccount(h);
    const url = await h.serve({
      ...h.deps,
      dropbox: createDropboxClient({ apiUrl: 'http://127.0.0.1:1', requestTimeoutMs: 2_000 }),
    });
    assertError(await login(account.email, account.token, url), 503, 'dropbox_unavailable');
  });

  it('accepts a team account and keeps its root namespace for later calls', async () => {
    const team = h.emulator.addAccount({ email: 'team.member@example.com', team: true });
    const token = h.emulator.issueToken(team.accountId);
    h.emulator.addFolder(team.accountId, '/Team Projects/Site T');
    const res = await login('team.member@example.com', token);
    expectStatus(res, 201);
    assert.equal(res.body.team, true);
    const folders = await h.call(
      'GET',
      `${dropboxBase(admin)}/connections/${res.body.id as string}/folders`,
      { key: admin.key },
    );
    expectStatus(folders, 200);
    assert.ok(
      (folders.body.folders as { name: string }[]).some((f) => f.name === 'Team Projects'),
      folders.text,
    );
    expectStatus(
      await h.call('DELETE', `${dropboxBase(admin)}/connections/${res.body.id as string}`, {
        key: admin.key,
      }),
      204,
    );
  });

  it('refuses a second connection to an account already connected with 409 already_connected, also when two logins race', async () => {
    const account = dropboxAccount(h);
    const [a, b] = await Promise.all([login(account.email, account.token), login(account.email, account.token)]);
    const statuses = [a.status, b.status].sort();
    assert.deepEqual(statuses, [201, 409], `${a.text} ${b.text}`);
    const [created, refused] = a.status === 201 ? [a, b] : [b, a];
    assertError(refused, 409, 'already_connected');
    assert.equal(refused.body.error.details.connectionId, created.body.id);
    assert.match(refused.body.error.message, /PUT .*\/token/u);
    assert.ok(!refused.text.includes(account.token), 'no token in the answer');
    const again = await login(account.email, account.token);
    assertError(again, 409, 'already_connected');
    const list = await h.call('GET', `${dropboxBase(admin)}/connections`, { key: admin.key });
    assert.deepEqual(
      list.body.connections.map((c: { id: string }) => c.id),
      [created.body.id],
    );
    // Another project may connect the same account.
    const other = await createProjectAdmin(h);
    expectStatus(
      await h.call('POST', `${dropboxBase(other)}/connections`, {
        key: other.key,
        body: { clientIdentification: account.email, accessToken: account.token },
      }),
      201,
    );
    expectStatus(
      await h.call('DELETE', `${dropboxBase(admin)}/connections/${created.body.id as string}`, { key: admin.key }),
      204,
    );
  });
});
