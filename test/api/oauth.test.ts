/**
 * Credentials that outlive four hours, through the API: "Connect with Dropbox" (start, consent,
 * callback), its refused rounds, the seed's form extended with a refresh token, and deletion
 * revoking at Dropbox.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { collections } from '../../src/db/collections';
import { createConnectionsRepository } from '../../src/db/connectionsRepository';
import { clickConsent } from '../support/consent';
import { launchBrowser } from '../browser/support/browser';
import {
  assertError,
  assertInvalid,
  createProjectAdmin,
  dropboxAccount,
  dropboxBase,
  expectStatus,
  type ProjectAdmin,
} from './fixtures';
import { type ApiAnswer, type ApiHarness, startApiHarness } from './harness';

describe('connections with refresh tokens, and Connect with Dropbox', () => {
  let h: ApiHarness;
  let admin: ProjectAdmin;

  before(async () => {
    h = await startApiHarness();
    admin = await createProjectAdmin(h);
  });
  after(async () => {
    await h?.close();
  });

  const start = (clientIdentification: string, who: ProjectAdmin = admin) =>
    h.call('POST', `${dropboxBase(who)}/oauth/start`, { key: who.key, body: { clientIdentification } });
  /** The cookie the start set in the admin's browser (it binds the round to that browser). */
  const browserCookie = (started: ApiAnswer): string =>
    started.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  /** The browser that started the round following Dropbox's redirect to the callback; no API key. */
  const callback = async (location: string, started: ApiAnswer | null): Promise<ApiAnswer> => {
    const res = await fetch(location, { redirect: 'manual', headers: started ? { cookie: browserCookie(started) } : {} });
    const text = await res.text();
    h.answers.push(text);
    const json = res.headers.get('content-type')?.includes('json') === true;
    return { status: res.status, headers: res.headers, text, body: json ? (JSON.parse(text) as unknown) : undefined };
  };
  const connections = async (who: ProjectAdmin = admin) => {
    const res = await h.call('GET', `${dropboxBase(who)}/connections`, { key: who.key });
    expectStatus(res, 200);
    return res.body.connections as Record<string, unknown>[];
  };
  const redirectedTo = (res: { status: number; headers: Headers }) => {
    assert.equal(res.status, 303);
    return new URL(res.headers.get('location') ?? '', 'http://admin.page');
  };

  it('connects through start, consent and callback, and stores a refresh token shown as credentialKind only', async () => {
    const account = dropboxAccount(h);
    const started = await start(account.email);
    expectStatus(started, 200);
    const authorizeUrl = new URL(started.body.authorizeUrl as string);
    assert.equal(authorizeUrl.origin + authorizeUrl.pathname, `${h.emulator.url}/oauth2/authorize`);
    assert.equal(authorizeUrl.searchParams.get('response_type'), 'code');
    assert.equal(authorizeUrl.searchParams.get('client_id'), h.serviceApp.appKey);
    assert.equal(authorizeUrl.searchParams.get('code_challenge_method'), 'S256');
    assert.equal(authorizeUrl.searchParams.get('token_access_type'), 'offline');
    assert.equal(authorizeUrl.searchParams.get('redirect_uri'), `${h.url}/v1/dropbox/oauth/callback`);
    const minutes = (Date.parse(started.body.expiresAt as string) - Date.now()) / 60_000;
    assert.ok(minutes > 9 && minutes <= 10, `ten minutes to live (${minutes})`);

    const location = await clickConsent(authorizeUrl.toString(), { allowAccountId: account.accountId });
    const done = await callback(location, started);
    const back = redirectedTo(done);
    assert.equal(back.pathname, '/');
    const connectionId = back.searchParams.get('connection');
    assert.ok(connectionId, done.headers.get('location') ?? '');

    const [shown] = await connections();
    assert.equal(shown?.id, connectionId);
    assert.equal(shown?.credentialKind, 'refresh_token');
    assert.equal((shown?.account as { id: string }).id, account.accountId);
    assert.ok(Date.parse(shown?.accessTokenExpiresAt as string) > Date.now() + 3.9 * 3_600_000, 'four hours');
    assert.ok(shown?.lastRefreshAt);
    assert.deepEqual(Object.keys(shown ?? {}).sort(), [
      'accessTokenExpiresAt',
      'account',
      'clientIdentification',
      'createdAt',
      'credentialKind',
      'id',
      'lastRefreshAt',
      'projectId',
      'team',
      'tokenUpdatedAt',
      'updatedAt',
    ]);

    // The stored round and its state are gone; the state was kept only as a hash.
    assert.equal(await collections(h.db).oauthStates.countDocuments({}), 0);

    // The same callback again: the state was single use.
    assertError(await callback(location, started), 400, 'invalid_oauth_state');
  });

  it("lets an admin click Allow on Dropbox's consent page in Chromium and land on the admin page with the connection", async () => {
    const who = await createProjectAdmin(h);
    const account = dropboxAccount(h);
    const started = await start(account.email, who);
    expectStatus(started, 200);
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      // As the admin page's own start would have left it in this browser.
      for (const pair of browserCookie(started).split('; ')) {
        const [name, value] = pair.split('=') as [string, string];
        await browser.setCookie({ name, value, domain: '127.0.0.1', path: '/v1/dropbox/oauth/callback', httpOnly: true, sameSite: 'Lax' });
      }
      await page.goto(started.body.authorizeUrl as string);
      assert.match(await page.title(), /Dropbox/u);
      const [arrived] = await Promise.all([page.waitForNavigation(), page.click(`button[value="${account.accountId}"]`)]);
      // The callback redirected to the page with `?connection=<id>`, on the round's project; the page
      // reads it once, shows its notice and drops it from the address (a reload must not show it again).
      const callback = arrived?.request().redirectChain().at(-1)?.response();
      const redirectedTo = new URL(callback?.headers().location ?? '', h.url);
      assert.equal(`${redirectedTo.origin}${redirectedTo.pathname}`, `${h.url}/`);
      const [shown] = await connections(who);
      assert.equal(redirectedTo.searchParams.get('connection'), shown?.id);
      assert.equal(redirectedTo.hash, `#/projects/${who.projectId}`);
      assert.equal(shown?.credentialKind, 'refresh_token');
      await page.waitForSelector('#return-notice.success');
      assert.match(await page.$eval('#return-notice', (el) => el.textContent ?? ''), /Dropbox is connected/u);
      assert.equal(page.url(), `${h.url}/#/projects/${who.projectId}`);
    } finally {
      await browser.close();
    }
  });

  it('refuses an expired state with 400 invalid_oauth_state, before any exchange', async () => {
    const account = dropboxAccount(h);
    const started = await start(account.email);
    const location = await clickConsent(started.body.authorizeUrl as string, { allowAccountId: account.accountId });
    await collections(h.db).oauthStates.updateMany({}, { $set: { expiresAt: new Date(Date.now() - 1000) } });
    h.emulator.resetTokenCalls();
    assertError(await callback(location, started), 400, 'invalid_oauth_state');
    assert.equal(h.emulator.tokenCalls().total, 0, 'the code was never exchanged');
    assertError(await h.call('GET', '/v1/dropbox/oauth/callback?code=abc&state=made-up', { key: null }), 400, 'invalid_oauth_state');
    assertError(await h.call('GET', '/v1/dropbox/oauth/callback?code=abc', { key: null }), 400, 'invalid_oauth_state');
  });

  it('refuses a round finished in another browser than the one that started it (a link sent to someone else), before any exchange', async () => {
    const other = await createProjectAdmin(h);
    const victim = dropboxAccount(h);
    // The admin starts a round naming someone else's account and sends them the authorize link.
    const started = await start(victim.email, other);
    const cookie = started.headers.getSetCookie().join('\n');
    assert.match(cookie, /HttpOnly/iu);
    assert.match(cookie, /SameSite=Lax/iu);
    assert.match(cookie, /Path=\/v1\/dropbox\/oauth\/callback/iu);
    const another = await start(victim.email, other);
    const location = await clickConsent(started.body.authorizeUrl as string, { allowAccountId: victim.accountId });
    h.emulator.resetTokenCalls();
    // Their browser has no key of this round; nor does the key of another round serve.
    assertError(await callback(location, another), 400, 'invalid_oauth_state');
    const again = await start(victim.email, other);
    const second = await clickConsent(again.body.authorizeUrl as string, { allowAccountId: victim.accountId });
    assertError(await callback(second, null), 400, 'invalid_oauth_state');
    assert.equal(h.emulator.tokenCalls().total, 0, 'no code was exchanged');
    assert.deepEqual(await connections(other), []);
    // Refused elsewhere, the round is not used up: it still finishes in the browser that started it.
    const back = redirectedTo(await callback(location, started));
    assert.equal(back.searchParams.get('error'), null);
    assert.ok(back.searchParams.get('connection'), back.toString());
    assertError(await callback(location, started), 400, 'invalid_oauth_state');
  });

  it("refuses a callback for another account's email with identity_mismatch and stores nothing", async () => {
    const other = await createProjectAdmin(h);
    const expected = dropboxAccount(h);
    const signedIn = dropboxAccount(h);
    const started = await start(expected.email, other);
    const location = await clickConsent(started.body.authorizeUrl as string, { allowAccountId: signedIn.accountId });
    h.emulator.resetCalls();
    const back = redirectedTo(await callback(location, started));
    assert.equal(back.searchParams.get('error'), 'identity_mismatch');
    assert.equal(back.searchParams.get('connection'), null);
    assert.deepEqual(await connections(other), []);
    // The grant Dropbox made for the round is revoked: the account keeps no live grant to the app.
    const revoked = Object.entries(h.emulator.calls().byTokenAndRoute).filter(([route]) => route.includes('token/revoke'));
    const tokens = revoked.flatMap(([, byToken]) => Object.keys(byToken));
    assert.equal(tokens.length, 1, JSON.stringify(h.emulator.calls().byRoute));
    const check = await fetch(`${h.emulator.url}/2/users/get_current_account`, { method: 'POST', headers: { authorization: `Bearer ${tokens[0]}` } });
    assert.equal(check.status, 401);
  });

  it('refuses the callback with feature_disabled when the organization lost the feature during the round, and stores nothing', async () => {
    const other = await createProjectAdmin(h);
    const account = dropboxAccount(h);
    const started = await start(account.email, other);
    const location = await clickConsent(started.body.authorizeUrl as string, { allowAccountId: account.accountId });
    const setFeature = async (dropbox: boolean) =>
      expectStatus(await h.call('PATCH', `/v1/orgs/${other.orgId}`, { key: h.rootKey, body: { features: { dropbox } } }), 200);
    await setFeature(false);
    h.emulator.resetTokenCalls();
    const back = redirectedTo(await callback(location, started));
    assert.equal(back.searchParams.get('error'), 'feature_disabled');
    assert.equal(back.searchParams.get('connection'), null);
    assert.equal(h.emulator.tokenCalls().total, 0, 'the code was never exchanged');
    await setFeature(true);
    assert.deepEqual(await connections(other), []);
  });

  it('sends the browser back with oauth_code_refused when Dropbox refuses the code, and stores nothing', async () => {
    const other = await createProjectAdmin(h);
    const account = dropboxAccount(h);
    const started = await start(account.email, other);
    const location = new URL(await clickConsent(started.body.authorizeUrl as string, { allowAccountId: account.accountId }));
    location.searchParams.set('code', 'not-a-code-dropbox-issued');
    const back = redirectedTo(await callback(location.toString(), started));
    assert.equal(back.searchParams.get('error'), 'oauth_code_refused');
    assert.deepEqual(await connections(other), []);
  });

  it('sends the browser back with dropbox_unavailable when Dropbox rate-limits the code exchange, and stores nothing', async () => {
    const other = await createProjectAdmin(h);
    const account = dropboxAccount(h);
    const started = await start(account.email, other);
    const location = await clickConsent(started.body.authorizeUrl as string, { allowAccountId: account.accountId });
    h.emulator.failNext({ route: 'oauth2/token', status: 429, retryAfterSeconds: 1 });
    const back = redirectedTo(await callback(location, started));
    assert.equal(back.searchParams.get('error'), 'dropbox_unavailable');
    assert.deepEqual(await connections(other), []);
    // The token endpoint answers the next tests only once its Retry-After has passed.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
  });

  it('sends a Cancel on the consent page back with error=access_denied', async () => {
    const account = dropboxAccount(h);
    const started = await start(account.email);
    const back = redirectedTo(await callback(await clickConsent(started.body.authorizeUrl as string, 'deny'), started));
    assert.equal(back.searchParams.get('error'), 'access_denied');
  });

  it('says why Connect with Dropbox is off without an app key', async () => {
    const url = await h.serve({ ...h.deps, config: { rootApiKey: h.rootKey } });
    const res = await h.call('POST', `${dropboxBase(admin)}/oauth/start`, {
      key: admin.key,
      baseUrl: url,
      body: { clientIdentification: 'x@example.com' },
    });
    assertError(res, 503, 'oauth_not_configured');
    assert.match(res.body.error.message, /DROPBOX_APP_KEY/u);
  });

  it("accepts a refresh token of the admin's own app, refuses a wrong secret or a revoked token, and keeps it from an access token", async () => {
    const who = await createProjectAdmin(h);
    const account = dropboxAccount(h);
    const own = h.emulator.registerApp({ redirectUris: [] });
    const refreshToken = h.emulator.grantOffline(own.appKey, account.accountId);
    const post = (body: Record<string, unknown>) =>
      h.call('POST', `${dropboxBase(who)}/connections`, { key: who.key, body: { clientIdentification: account.email, ...body } });

    assertError(await post({ refreshToken, appKey: own.appKey, appSecret: 'wrong-secret' }), 422, 'invalid_app_credentials');
    assertError(await post({ refreshToken, appKey: own.appKey }), 422, 'invalid_app_credentials');
    assertInvalid(await post({ refreshToken }), 'appKey');
    assertInvalid(await post({ refreshToken, appKey: own.appKey, accessToken: account.token }), 'refreshToken');
    assertInvalid(await post({ refreshToken, appKey: own.appKey, appSecret: own.appSecret, extra: 1 }), 'extra');

    const created = await post({ refreshToken, appKey: own.appKey, appSecret: own.appSecret });
    expectStatus(created, 201);
    assert.equal(created.body.credentialKind, 'refresh_token');
    assert.equal(created.body.warnings, undefined);
    assert.ok(!created.text.includes(refreshToken) && !created.text.includes(own.appSecret));

    const revoked = h.emulator.grantOffline(own.appKey, account.accountId);
    h.emulator.revokeGrant(revoked);
    assertError(await post({ refreshToken: revoked, appKey: own.appKey, appSecret: own.appSecret }), 422, 'invalid_refresh_token');

    // An access token does not replace a refresh token Dropbox still accepts: nothing changes.
    const connectionId = created.body.id as string;
    const putAccessToken = () =>
      h.call('PUT', `${dropboxBase(who)}/connections/${connectionId}/token`, { key: who.key, body: { accessToken: account.token } });
    const held = await putAccessToken();
    assertError(held, 409, 'refresh_token_held');
    assert.match(held.body.error.message, /Connect with Dropbox/u);
    assert.ok(!held.text.includes(refreshToken) && !held.text.includes(account.token));
    const kept = await h.deps.repos.connections.getById(connectionId);
    assert.equal(kept?.credentialKind, 'refresh_token');

    // Once Dropbox refused the refresh token (as a refresh records it), a short-lived access token
    // is accepted, with a warning that says what to do instead.
    h.emulator.revokeGrant(refreshToken);
    assert.ok(kept?.refreshToken);
    await createConnectionsRepository(h.db).markRefreshRefused(connectionId, kept.refreshToken, 'invalid_grant');
    const withAccessToken = await putAccessToken();
    expectStatus(withAccessToken, 200);
    assert.equal(withAccessToken.body.credentialKind, 'access_token');
    assert.equal(withAccessToken.body.accessTokenExpiresAt, null);
    assert.deepEqual(
      (withAccessToken.body.warnings as { code: string }[]).map((w) => w.code),
      ['short_lived_token'],
    );
    assert.match((withAccessToken.body.warnings as { message: string }[])[0]?.message ?? '', /refresh token/u);
  });

  it('does not revoke a token or refresh token that another project still uses when one connection to it is deleted', async () => {
    const account = dropboxAccount(h);
    h.emulator.addFolder(account.accountId, '/Shared');
    const own = h.emulator.registerApp({ redirectUris: [] });
    const refreshToken = h.emulator.grantOffline(own.appKey, account.accountId, { pkce: true });
    const [a, b, c, d] = [await createProjectAdmin(h), await createProjectAdmin(h), await createProjectAdmin(h), await createProjectAdmin(h)];
    const post = async (who: typeof a, body: Record<string, unknown>) => {
      const res = await h.call('POST', `${dropboxBase(who)}/connections`, { key: who.key, body: { clientIdentification: account.email, ...body } });
      expectStatus(res, 201);
      return res.body.id as string;
    };
    // One pasted access token in two projects; one refresh token in two others.
    const pasted = [await post(a, { accessToken: account.token }), await post(b, { accessToken: account.token })];
    const granted = [await post(c, { refreshToken, appKey: own.appKey }), await post(d, { refreshToken, appKey: own.appKey })];
    const browse = (who: typeof a, id: string) => h.call('GET', `${dropboxBase(who)}/connections/${id}/folders`, { key: who.key });
    expectStatus(await h.call('DELETE', `${dropboxBase(a)}/connections/${pasted[0] as string}`, { key: a.key }), 204);
    expectStatus(await h.call('DELETE', `${dropboxBase(c)}/connections/${granted[0] as string}`, { key: c.key }), 204);
    expectStatus(await browse(b, pasted[1] as string), 200);
    expectStatus(await browse(d, granted[1] as string), 200);
    // The last connection to hold them revokes them.
    expectStatus(await h.call('DELETE', `${dropboxBase(b)}/connections/${pasted[1] as string}`, { key: b.key }), 204);
    const check = await fetch(`${h.emulator.url}/2/users/get_current_account`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${account.token}` },
    });
    assert.equal(check.status, 401);
  });

  it('revokes the tokens at Dropbox when a connection is deleted', async () => {
    const who = await createProjectAdmin(h);
    const account = dropboxAccount(h);
    const own = h.emulator.registerApp({ redirectUris: [] });
    const refreshToken = h.emulator.grantOffline(own.appKey, account.accountId, { pkce: true });
    const created = await h.call('POST', `${dropboxBase(who)}/connections`, {
      key: who.key,
      body: { clientIdentification: account.email, refreshToken, appKey: own.appKey },
    });
    expectStatus(created, 201);
    expectStatus(await h.call('DELETE', `${dropboxBase(who)}/connections/${created.body.id as string}`, { key: who.key }), 204);
    const res = await fetch(`${h.emulator.url}/oauth2/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: own.appKey }).toString(),
    });
    assert.equal(((await res.json()) as { error: string }).error, 'invalid_grant');
  });
});
