import { DropboxRateLimitError, DropboxUnavailableError, retryAfterMs } from './errors';
import { countDropboxCall } from '../metrics';

/**
 * Dropbox's OAuth token endpoint (`/oauth2/token`) and `/2/auth/token/revoke`, reached through
 * DROPBOX_API_URL like every other call. Written by hand rather than with the SDK's `DropboxAuth`:
 * its refresh puts the refresh token and the app secret in the URL's query string (where proxies
 * and access logs keep them) and refreshes at a fixed five minutes before expiry, which for a
 * short-lived test token means on every call. Here the secrets travel in the form body and in
 * HTTP Basic, never in a URL.
 */
export interface TokenGrant {
  accessToken: string;
  expiresInSeconds: number;
  /** Only for the code grant with `token_access_type=offline`. */
  refreshToken?: string;
  accountId?: string;
  scopes?: string[];
}

export interface AppCredentials {
  appKey: string;
  /** Absent for a refresh token issued to a PKCE flow. */
  appSecret?: string;
}

export interface TokenEndpoint {
  exchangeCode(
    request: AppCredentials & { code: string; redirectUri: string; codeVerifier: string },
  ): Promise<TokenGrant>;
  refreshAccessToken(request: AppCredentials & { refreshToken: string }): Promise<TokenGrant>;
  /** Ends the access token, its refresh token and every access token issued from it. */
  revokeToken(accessToken: string): Promise<void>;
}

/**
 * Dropbox refused the grant: `invalid_grant` (revoked, expired, unknown, or a used code) or
 * `invalid_client` (the app key or secret is wrong, or the app was deleted). Never retried.
 */
export class DropboxGrantError extends Error {
  override name = 'DropboxGrantError';
  constructor(
    readonly problem: 'invalid_grant' | 'invalid_client' | 'invalid_request',
    message: string,
  ) {
    super(message);
  }
}

const GRANT_MESSAGES: Record<DropboxGrantError['problem'], string> = {
  invalid_grant: 'Dropbox refused the grant (revoked, expired or already used)',
  invalid_client: 'Dropbox refused the app key or app secret',
  invalid_request: 'Dropbox refused the token request as malformed',
};

export function createTokenEndpoint(options: { apiUrl: string; requestTimeoutMs: number }): TokenEndpoint {
  const base = options.apiUrl.replace(/\/+$/u, '');

  async function post(path: string, init: RequestInit): Promise<Response> {
    try {
      const url = `${base}${path}`;
      return await countDropboxCall(url, fetch(url, { ...init, method: 'POST', signal: AbortSignal.timeout(options.requestTimeoutMs) }));
    } catch (err) {
      throw new DropboxUnavailableError(`Dropbox could not be reached (${(err as Error).name})`);
    }
  }

  async function token(form: Record<string, string>, app: AppCredentials): Promise<TokenGrant> {
    const headers: Record<string, string> = { 'Content-Type': 'application/x-www-form-urlencoded' };
    const body = new URLSearchParams(form);
    if (app.appSecret !== undefined) {
      headers.Authorization = `Basic ${Buffer.from(`${app.appKey}:${app.appSecret}`).toString('base64')}`;
    } else body.set('client_id', app.appKey);
    const res = await post('/oauth2/token', { headers, body: body.toString() });
    if (res.status === 429) throw new DropboxRateLimitError(retryAfterMs(res.headers.get('retry-after')));
    if (res.status >= 500) throw new DropboxUnavailableError(`Dropbox answered ${res.status}`);
    const json = (await res.json().catch(() => ({}))) as Record<string, unknown>;
    if (res.status !== 200) {
      // Only the error code travels on: Dropbox's description may quote what was sent. Dropbox
      // has also been seen to send both in one field ("invalid_client: Invalid client_id or ...").
      const named = typeof json.error === 'string' ? json.error.split(':')[0]!.trim() : undefined;
      const code = named === 'invalid_grant' || named === 'invalid_client' ? named : 'invalid_request';
      throw new DropboxGrantError(code, GRANT_MESSAGES[code]);
    }
    if (typeof json.access_token !== 'string' || typeof json.expires_in !== 'number') {
      throw new DropboxUnavailableError('Dropbox answered the token request without an access token');
    }
    return {
      accessToken: json.access_token,
      expiresInSeconds: json.expires_in,
      ...(typeof json.refresh_token === 'string' ? { refreshToken: json.refresh_token } : {}),
      ...(typeof json.account_id === 'string' ? { accountId: json.account_id } : {}),
      ...(typeof json.scope === 'string' ? { scopes: json.scope.split(' ').filter(Boolean) } : {}),
    };
  }

  return {
    exchangeCode: ({ code, redirectUri, codeVerifier, ...app }) =>
      token({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: codeVerifier }, app),
    refreshAccessToken: ({ refreshToken, ...app }) =>
      token({ grant_type: 'refresh_token', refresh_token: refreshToken }, app),
    async revokeToken(accessToken) {
      const res = await post('/2/auth/token/revoke', { headers: { Authorization: `Bearer ${accessToken}` } });
      // 401: already revoked or expired, which is what was asked for.
      if (res.status !== 200 && res.status !== 401) throw new DropboxUnavailableError(`Dropbox answered ${res.status}`);
    },
  };
}
