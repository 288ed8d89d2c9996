import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import { type DropboxEmulator, startDropboxEmulator } from '../../src/dev/dropboxEmulator/index';

const REDIRECT = 'http://127.0.0.1:9/v1/dropbox/oauth/callback';

describe("Dropbox emulator: OAuth 2 as Dropbox documents it", () => {
  let emu: DropboxEmulator;
  let clock = Date.parse('2026-01-01T00:00:00Z');
  let app: { appKey: string; appSecret: string };
  let accountId: string;

  void before(async () => {
    emu = await startDropboxEmulator({ now: () => clock });
  });
  void after(async () => {
    await emu.close();
  });
  void beforeEach(() => {
    emu.reset();
    app = emu.registerApp({ redirectUris: [REDIRECT], accessTokenLifetimeSeconds: 15 });
    accountId = emu.addAccount({ email: 'ann@example.com' }).accountId;
    emu.addAccount({ email: 'bob@example.com' });
  });

  const token = (params: Record<string, string>, authorization?: string) =>
    fetch(`${emu.url}/oauth2/token`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-www-form-urlencoded',
        ...(authorization ? { Authorization: authorization } : {}),
      },
      body: new URLSearchParams(params).toString(),
    });
  const account = (accessToken: string) =>
    fetch(`${emu.url}/2/users/get_current_account`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${accessToken}` },
    });
  const basic = (key: string, secret: string) => `Basic ${Buffer.from(`${key}:${secret}`).toString('base64')}`;

  /** Opens the consent page and clicks the button named `click`, as a browser would. */
  async function consent(query: Record<string, string>, click: Record<string, string>) {
    const page = await fetch(`${emu.url}/oauth2/authorize?${new URLSearchParams(query).toString()}`);
    const html = await page.text();
    assert.equal(page.status, 200, html);
    const hidden = [...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/gu)].map(
      (m) => [m[1] as string, (m[2] as string).replace(/&amp;/gu, '&')] as [string, string],
    );
    const res = await fetch(`${emu.url}/oauth2/authorize`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams([...hidden, ...Object.entries(click)]).toString(),
      redirect: 'manual',
    });
    assert.equal(res.status, 302);
    return { html, location: new URL(res.headers.get('location') ?? '') };
  }

  it('runs the PKCE code flow: consent page, code, verifier, then an access and a refresh token', async () => {
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const query = {
      response_type: 'code',
      client_id: app.appKey,
      redirect_uri: REDIRECT,
      state: 'st-1',
      code_challenge: challenge,
      code_challenge_method: 'S256',
      token_access_type: 'offline',
    };
    const { html, location } = await consent(query, { allow_account: accountId });
    assert.match(html, /Allow as ann@example\.com/u);
    assert.match(html, /Allow as bob@example\.com/u);
    assert.equal(location.origin + location.pathname, REDIRECT);
    assert.equal(location.searchParams.get('state'), 'st-1');
    const code = location.searchParams.get('code') ?? '';

    const wrong = await token({ grant_type: 'authorization_code', code, client_id: app.appKey, redirect_uri: REDIRECT, code_verifier: 'nope' });
    assert.equal(wrong.status, 400);
    assert.deepEqual(await wrong.json(), { error: 'invalid_grant', error_description: 'invalid code verifier' });

    const again = await consent(query, { allow_account: accountId });
    const fresh = again.location.searchParams.get('code') ?? '';
    const res = await token({ grant_type: 'authorization_code', code: fresh, client_id: app.appKey, redirect_uri: REDIRECT, code_verifier: verifier });
    const body = (await res.json()) as Record<string, unknown>;
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.equal(body.token_type, 'bearer');
    assert.equal(body.expires_in, 15);
    assert.equal(body.account_id, accountId);
    assert.equal(body.scope, 'account_info.read files.metadata.read files.content.read');
    assert.equal(typeof body.refresh_token, 'string');
    assert.equal((await account(String(body.access_token))).status, 200);

    const replay = await token({ grant_type: 'authorization_code', code: fresh, client_id: app.appKey, redirect_uri: REDIRECT, code_verifier: verifier });
    assert.equal(replay.status, 400, 'a code is single use');

    // A PKCE grant refreshes with the client id alone; a refresh never returns a new refresh token.
    const refreshed = await token({ grant_type: 'refresh_token', refresh_token: String(body.refresh_token), client_id: app.appKey });
    const next = (await refreshed.json()) as Record<string, unknown>;
    assert.equal(refreshed.status, 200);
    assert.deepEqual(Object.keys(next).sort(), ['access_token', 'expires_in', 'token_type']);
    assert.deepEqual(emu.tokenCalls().byGrantType, { authorization_code: 3, refresh_token: 1 });
  });

  it('answers access_denied to the redirect URI when the user clicks Cancel', async () => {
    const { location } = await consent(
      { response_type: 'code', client_id: app.appKey, redirect_uri: REDIRECT, state: 'st-2' },
      { deny: '1' },
    );
    assert.equal(location.searchParams.get('error'), 'access_denied');
    assert.equal(location.searchParams.get('state'), 'st-2');
    assert.equal(location.searchParams.get('code'), null);
  });

  it('refuses an unregistered redirect URI or an unknown app on the authorize page', async () => {
    const q = (extra: Record<string, string>) =>
      fetch(`${emu.url}/oauth2/authorize?${new URLSearchParams({ response_type: 'code', client_id: app.appKey, redirect_uri: REDIRECT, ...extra }).toString()}`);
    assert.equal((await q({ redirect_uri: 'http://evil.example/cb' })).status, 400);
    assert.equal((await q({ client_id: 'unknown' })).status, 400);
  });

  it('refreshes a confidential grant with the secret in HTTP Basic or the form, and refuses a wrong one', async () => {
    const refreshToken = emu.grantOffline(app.appKey, accountId);
    const noSecret = await token({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: app.appKey });
    assert.equal(noSecret.status, 400);
    assert.equal(((await noSecret.json()) as { error: string }).error, 'invalid_client');
    const wrong = await token({ grant_type: 'refresh_token', refresh_token: refreshToken }, basic(app.appKey, 'wrong'));
    assert.equal(((await wrong.json()) as { error: string }).error, 'invalid_client');
    const viaBasic = await token({ grant_type: 'refresh_token', refresh_token: refreshToken }, basic(app.appKey, app.appSecret));
    assert.equal(viaBasic.status, 200);
    const viaForm = await token({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: app.appKey, client_secret: app.appSecret });
    assert.equal(viaForm.status, 200);
    assert.equal(emu.tokenCalls().byRefreshToken[refreshToken], 4);
  });

  it('expires access tokens after the lifetime with expired_access_token', async () => {
    const refreshToken = emu.grantOffline(app.appKey, accountId, { pkce: true });
    const res = await token({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: app.appKey });
    const { access_token: accessToken } = (await res.json()) as { access_token: string };
    clock += 14_000;
    assert.equal((await account(accessToken)).status, 200);
    clock += 1_000;
    const expired = await account(accessToken);
    assert.equal(expired.status, 401);
    assert.deepEqual(await expired.json(), {
      error_summary: 'expired_access_token/...',
      error: { '.tag': 'expired_access_token' },
    });
    emu.setAccessTokenLifetime(app.appKey, 60);
    const longer = await token({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: app.appKey });
    assert.equal(((await longer.json()) as { expires_in: number }).expires_in, 60);
  });

  it('gives issued tokens four hours by default', async () => {
    const plain = emu.issueToken(accountId);
    clock += 4 * 3_600_000 - 1;
    assert.equal((await account(plain)).status, 200);
    clock += 1;
    assert.equal((await account(plain)).status, 401);
  });

  it('revokes the calling token, its refresh token and every token from it at /2/auth/token/revoke', async () => {
    const refreshToken = emu.grantOffline(app.appKey, accountId, { pkce: true });
    const issue = async () => {
      const res = await token({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: app.appKey });
      return ((await res.json()) as { access_token: string }).access_token;
    };
    const first = await issue();
    const second = await issue();
    const other = emu.issueToken(accountId);
    const revoked = await fetch(`${emu.url}/2/auth/token/revoke`, { method: 'POST', headers: { Authorization: `Bearer ${second}` } });
    assert.equal(revoked.status, 200);
    assert.equal((await account(first)).status, 401);
    assert.equal((await account(second)).status, 401);
    assert.equal((await account(other)).status, 200, 'a token of another grant lives on');
    const refused = await token({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: app.appKey });
    assert.deepEqual(await refused.json(), { error: 'invalid_grant', error_description: 'refresh token is invalid or revoked' });
  });

  it('revokes a grant from the control API, and answers 5xx from the token endpoint when told to', async () => {
    const refreshToken = emu.grantOffline(app.appKey, accountId, { pkce: true });
    emu.failNext({ status: 503, route: 'oauth2/token' });
    assert.equal((await token({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: app.appKey })).status, 503);
    const control = await fetch(`${emu.url}/_control/grants/revoke`, { method: 'POST', body: JSON.stringify({ refreshToken }) });
    assert.equal(control.status, 204);
    const res = await token({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: app.appKey });
    assert.equal(((await res.json()) as { error: string }).error, 'invalid_grant');
  });
});
