import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { DEFAULT_SCOPES, type AccountRegistry } from './accounts';

/**
 * Dropbox's OAuth 2 as its documentation describes it: apps registered with a key, a secret and
 * redirect URIs; the code flow (with or without PKCE, `token_access_type=offline` for a refresh
 * token); `/oauth2/token` for both grants with the client in the form or in HTTP Basic; errors as
 * `{error, error_description}`. A refresh answers a new access token only, never a new refresh
 * token. Access tokens live the app's lifetime: four hours unless a test sets seconds.
 */
export interface AppInput {
  appKey?: string;
  appSecret?: string;
  redirectUris: string[];
  /** The scopes the app's Permissions tab grants (default DEFAULT_SCOPES: account_info.read, files.metadata.read, files.content.read). */
  scopes?: string[];
  /** Lifetime of the access tokens issued to the app (default 14400, Dropbox's). */
  accessTokenLifetimeSeconds?: number;
}

export interface RegisteredApp {
  appKey: string;
  appSecret: string;
}

interface App extends RegisteredApp {
  redirectUris: string[];
  scopes: string[];
  lifetimeSeconds: number;
}

interface Grant {
  id: string;
  appKey: string;
  accountId: string;
  scopes: string[];
  /** Issued to a PKCE flow: refreshing it needs no secret. */
  pkce: boolean;
  revoked: boolean;
}

interface Code {
  appKey: string;
  accountId: string;
  redirectUri: string | undefined;
  challenge: string | undefined;
  challengeMethod: string;
  offline: boolean;
  expiresAt: number;
}

/** Calls of /oauth2/token, for tests to count refreshes. */
export interface TokenEndpointCounts {
  total: number;
  byGrantType: Record<string, number>;
  byApp: Record<string, number>;
  /** Refresh-token grants by the refresh token used. */
  byRefreshToken: Record<string, number>;
  byStatus: Record<string, number>;
  /** When each refresh token was refreshed successfully (emulator clock, ms), oldest first. */
  refreshedAt: Record<string, number[]>;
}

export interface OAuthAnswer {
  status: number;
  /** JSON for the token endpoint, HTML or text for the authorize page. */
  json?: unknown;
  html?: string;
  text?: string;
  location?: string;
}

const CODE_TTL_MS = 10 * 60_000;
const DEFAULT_LIFETIME_SECONDS = 14_400;
const SCOPE_NAMES: Record<string, string> = {
  'account_info.read': 'View basic information about your Dropbox account',
  'files.metadata.read': 'View information about your Dropbox files and folders',
  'files.content.read': 'View content of your Dropbox files and folders',
};

const tokenError = (error: string, description: string, status = 400): OAuthAnswer => ({
  status,
  json: { error, error_description: description },
});

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/gu, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function opaque(prefix: string, bytes: number): string {
  return `${prefix}${randomBytes(bytes).toString('base64url')}`;
}

export class OAuthServer {
  private readonly apps = new Map<string, App>();
  private readonly codes = new Map<string, Code>();
  private readonly grants = new Map<string, Grant>();
  private counts = emptyCounts();

  constructor(private readonly deps: { accounts: AccountRegistry; now(): number }) {}

  registerApp(input: AppInput): RegisteredApp {
    if (!Array.isArray(input.redirectUris)) throw new Error('registerApp needs redirectUris');
    const app: App = {
      appKey: input.appKey ?? opaque('', 11).toLowerCase(),
      appSecret: input.appSecret ?? opaque('', 11).toLowerCase(),
      redirectUris: [...input.redirectUris],
      scopes: [...(input.scopes ?? DEFAULT_SCOPES)],
      lifetimeSeconds: positiveSeconds(input.accessTokenLifetimeSeconds ?? DEFAULT_LIFETIME_SECONDS),
    };
    this.apps.set(app.appKey, app);
    return { appKey: app.appKey, appSecret: app.appSecret };
  }

  setAccessTokenLifetime(appKey: string, seconds: number): void {
    this.app(appKey).lifetimeSeconds = positiveSeconds(seconds);
  }

  /**
   * A refresh token as if the account had clicked Allow in an offline code flow: for seeding the
   * demo and tests that are not about the consent page.
   */
  grantOffline(appKey: string, accountId: string, options: { pkce?: boolean; scopes?: string[] } = {}): string {
    const app = this.app(appKey);
    this.deps.accounts.get(accountId);
    return this.newGrant(app, accountId, options.scopes ?? app.scopes, options.pkce ?? false);
  }

  /** The user (or Dropbox) ends the grant: its refresh token and every access token from it. */
  revokeGrant(refreshToken: string): void {
    const grant = this.grants.get(refreshToken);
    if (!grant) throw new Error('No such emulated refresh token');
    this.endGrant(grant);
  }

  /** /2/auth/token/revoke: the calling access token, and its grant with every token from it. */
  revokeAccessToken(token: string): void {
    const grantId = this.deps.accounts.grantOf(token);
    const grant = grantId ? [...this.grants.values()].find((g) => g.id === grantId) : undefined;
    if (grant) this.endGrant(grant);
    else this.deps.accounts.revokeToken(token);
  }

  tokenCalls(): TokenEndpointCounts {
    return structuredClone(this.counts);
  }

  resetTokenCalls(): void {
    this.counts = emptyCounts();
  }

  clear(): void {
    this.apps.clear();
    this.codes.clear();
    this.grants.clear();
    this.counts = emptyCounts();
  }

  /** GET /oauth2/authorize: the consent page, one Allow button per account (no sign-in step). */
  authorizePage(query: URLSearchParams): OAuthAnswer {
    const checked = this.checkAuthorize(query);
    if ('status' in checked) return checked;
    const { app } = checked;
    const hidden = [...query.entries()]
      .map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`)
      .join('\n');
    const scopes = app.scopes.map((s) => `<li>${escapeHtml(SCOPE_NAMES[s] ?? s)}</li>`).join('');
    const accounts = this.deps.accounts
      .list()
      .map(
        (a) =>
          `<button type="submit" name="allow_account" value="${escapeHtml(a.accountId)}">Allow as ${escapeHtml(a.email)}</button>`,
      )
      .join('\n');
    const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>API Request Authorization - Dropbox</title></head>
<body><main><h1>App ${escapeHtml(app.appKey)} wants to access your Dropbox</h1>
<p>This app will be able to:</p><ul>${scopes}</ul>
<form method="post" action="/oauth2/authorize">
${hidden}
${accounts}
<button type="submit" name="deny" value="1">Cancel</button>
</form></main></body></html>`;
    return { status: 200, html };
  }

  /** POST /oauth2/authorize: the button clicked; back to the app with a code or access_denied. */
  decide(form: URLSearchParams): OAuthAnswer {
    const checked = this.checkAuthorize(form);
    if ('status' in checked) return checked;
    const { app, redirectUri } = checked;
    const back = new URL(redirectUri);
    const state = form.get('state');
    const accountId = form.get('allow_account');
    if (form.get('deny') !== null || !accountId) {
      back.searchParams.set('error', 'access_denied');
      back.searchParams.set('error_description', 'The user chose not to give your app access to their Dropbox account.');
    } else {
      this.deps.accounts.get(accountId);
      const code = opaque('', 32);
      const challenge = form.get('code_challenge') ?? undefined;
      this.codes.set(code, {
        appKey: app.appKey,
        accountId,
        redirectUri: form.get('redirect_uri') ?? undefined,
        challenge,
        challengeMethod: form.get('code_challenge_method') ?? 'plain',
        offline: form.get('token_access_type') === 'offline',
        expiresAt: this.deps.now() + CODE_TTL_MS,
      });
      back.searchParams.set('code', code);
    }
    if (state !== null) back.searchParams.set('state', state);
    return { status: 302, location: back.toString() };
  }

  /** POST /oauth2/token. `params` merges the query string and the form body, as Dropbox accepts both. */
  token(authorization: string | undefined, params: URLSearchParams): OAuthAnswer {
    const grantType = params.get('grant_type') ?? '';
    const client = clientOf(authorization, params);
    this.counts.total += 1;
    bump(this.counts.byGrantType, grantType || '(none)');
    if (client.id) bump(this.counts.byApp, client.id);
    if (grantType === 'refresh_token') bump(this.counts.byRefreshToken, params.get('refresh_token') ?? '');
    const answer = this.tokenAnswer(grantType, client, params);
    bump(this.counts.byStatus, String(answer.status));
    if (grantType === 'refresh_token' && answer.status === 200) {
      (this.counts.refreshedAt[params.get('refresh_token') ?? ''] ??= []).push(this.deps.now());
    }
    return answer;
  }

  private tokenAnswer(grantType: string, client: { id?: string; secret?: string }, params: URLSearchParams) {
    if (!client.id) return tokenError('invalid_request', 'No auth function available for given request');
    const app = this.apps.get(client.id);
    if (!app) return tokenError('invalid_client', 'Invalid client_id or client_secret');
    if (client.secret !== undefined && !sameSecret(client.secret, app.appSecret)) {
      return tokenError('invalid_client', 'Invalid client_id or client_secret');
    }
    if (grantType === 'authorization_code') return this.exchangeCode(app, client.secret !== undefined, params);
    if (grantType === 'refresh_token') return this.refresh(app, client.secret !== undefined, params);
    return tokenError('unsupported_grant_type', `"${grantType}" is not a supported grant type`);
  }

  private exchangeCode(app: App, withSecret: boolean, params: URLSearchParams): OAuthAnswer {
    const codeText = params.get('code');
    if (!codeText) return tokenError('invalid_request', 'No "code" given');
    const code = this.codes.get(codeText);
    // Single use: a code is gone once presented, whatever the outcome.
    this.codes.delete(codeText);
    if (!code || code.appKey !== app.appKey || this.deps.now() >= code.expiresAt) {
      return tokenError('invalid_grant', "code doesn't exist or has expired");
    }
    if (code.redirectUri !== undefined && params.get('redirect_uri') !== code.redirectUri) {
      return tokenError('invalid_grant', 'redirect_uri mismatch');
    }
    const verifier = params.get('code_verifier');
    if (code.challenge !== undefined) {
      if (!verifier) return tokenError('invalid_request', 'No "code_verifier" given');
      const computed =
        code.challengeMethod === 'S256' ? createHash('sha256').update(verifier).digest('base64url') : verifier;
      if (computed !== code.challenge) return tokenError('invalid_grant', 'invalid code verifier');
    } else if (!withSecret) {
      return tokenError('invalid_client', 'Invalid client_id or client_secret');
    }
    const account = this.deps.accounts.get(code.accountId);
    const refreshToken = code.offline
      ? this.newGrant(app, code.accountId, app.scopes, code.challenge !== undefined)
      : undefined;
    const grantId = refreshToken ? this.grants.get(refreshToken)?.id : undefined;
    return {
      status: 200,
      json: {
        ...this.accessToken(app, code.accountId, app.scopes, grantId),
        scope: app.scopes.join(' '),
        account_id: account.accountId,
        uid: account.homeNamespaceId,
        ...(refreshToken ? { refresh_token: refreshToken } : {}),
      },
    };
  }

  private refresh(app: App, withSecret: boolean, params: URLSearchParams): OAuthAnswer {
    const refreshToken = params.get('refresh_token');
    if (!refreshToken) return tokenError('invalid_request', 'No "refresh_token" given');
    const grant = this.grants.get(refreshToken);
    if (!grant || grant.revoked || grant.appKey !== app.appKey) {
      return tokenError('invalid_grant', 'refresh token is invalid or revoked');
    }
    if (!grant.pkce && !withSecret) return tokenError('invalid_client', 'Invalid client_id or client_secret');
    return { status: 200, json: this.accessToken(app, grant.accountId, grant.scopes, grant.id) };
  }

  private accessToken(app: App, accountId: string, scopes: string[], grantId: string | undefined) {
    const token = this.deps.accounts.issueToken(accountId, {
      scopes,
      expiresInMs: app.lifetimeSeconds * 1000,
      appKey: app.appKey,
      ...(grantId ? { grantId } : {}),
    });
    return { access_token: token, token_type: 'bearer', expires_in: app.lifetimeSeconds };
  }

  private newGrant(app: App, accountId: string, scopes: string[], pkce: boolean): string {
    const refreshToken = opaque('emu-rt-', 40);
    this.grants.set(refreshToken, {
      id: opaque('g', 9),
      appKey: app.appKey,
      accountId,
      scopes: [...scopes],
      pkce,
      revoked: false,
    });
    return refreshToken;
  }

  private endGrant(grant: Grant): void {
    grant.revoked = true;
    this.deps.accounts.revokeGrantTokens(grant.id);
  }

  private app(appKey: string): App {
    const app = this.apps.get(appKey);
    if (!app) throw new Error(`No emulated app "${appKey}"`);
    return app;
  }

  /** What Dropbox checks before showing the page: a known app, a registered redirect URI, the code flow. */
  private checkAuthorize(params: URLSearchParams): OAuthAnswer | { app: App; redirectUri: string } {
    const app = this.apps.get(params.get('client_id') ?? '');
    if (!app) return { status: 400, text: 'Invalid client_id: the app does not exist' };
    const redirectUri = params.get('redirect_uri');
    if (!redirectUri || !app.redirectUris.includes(redirectUri)) {
      return { status: 400, text: 'Invalid redirect_uri. It must exactly match one of the redirect URIs registered for the app.' };
    }
    if (params.get('response_type') !== 'code') {
      return { status: 400, text: 'Invalid response_type: this emulator issues codes only ("code")' };
    }
    const method = params.get('code_challenge_method');
    if (params.get('code_challenge') !== null && method !== 'S256' && method !== 'plain') {
      return { status: 400, text: 'Invalid code_challenge_method: expected S256 or plain' };
    }
    return { app, redirectUri };
  }
}

function clientOf(authorization: string | undefined, params: URLSearchParams): { id?: string; secret?: string } {
  const basic = /^Basic\s+(\S+)$/iu.exec(authorization ?? '')?.[1];
  if (basic) {
    const decoded = Buffer.from(basic, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) return { id: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
  }
  const id = params.get('client_id') ?? undefined;
  const secret = params.get('client_secret') ?? undefined;
  return { ...(id ? { id } : {}), ...(secret !== undefined ? { secret } : {}) };
}

function positiveSeconds(seconds: number): number {
  if (!Number.isFinite(seconds) || seconds <= 0) throw new Error('a token lifetime is a positive number of seconds');
  return seconds;
}

function emptyCounts(): TokenEndpointCounts {
  return { total: 0, byGrantType: {}, byApp: {}, byRefreshToken: {}, byStatus: {}, refreshedAt: {} };
}

function bump(record: Record<string, number>, key: string): void {
  record[key] = (record[key] ?? 0) + 1;
}
