import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Connection, SealedToken } from '../../domain/types';
import type { DropboxCredentials } from '../client';
import { DropboxCredentialsError, DropboxRateLimitError, DropboxUnavailableError } from '../errors';
import { tokenRefreshes } from '../../metrics';
import { DropboxGrantError, type TokenEndpoint } from '../tokenEndpoint';
import type { TokenCipher } from '../../security/tokenCipher';

/** Where the provider reads and writes connections and takes the per-connection refresh lease. */
export interface CredentialStore {
  connections: {
    getById(id: string): Promise<Connection | null>;
    storeRefreshedToken(
      id: string,
      from: SealedToken,
      update: { token: SealedToken; accessTokenExpiresAt: Date },
      now?: Date,
    ): Promise<boolean>;
    markRefreshRefused(id: string, from: SealedToken, problem: 'invalid_grant' | 'invalid_client', now?: Date): Promise<void>;
    setRootNamespace(id: string, rootNamespaceId: string | undefined): Promise<void>;
    setRateLimitedUntil(accountId: string, until: Date): Promise<void>;
  };
  refreshLeases: {
    take(connectionId: string, holder: string, now: Date, until: Date): Promise<boolean>;
    release(connectionId: string, holder: string): Promise<void>;
  };
}

export interface CredentialsProviderDeps {
  store: CredentialStore;
  tokens: Pick<TokenEndpoint, 'refreshAccessToken'>;
  cipher: Pick<TokenCipher, 'seal' | 'open'>;
  now?: () => number;
}

/** Every Dropbox call's access token comes from here. */
export interface CredentialsProvider {
  /**
   * The connection's credentials: its access token, refreshed first when it is due, and for a
   * refresh-token connection a `renew` that the client calls after `expired_access_token`.
   */
  forConnection(connection: Connection): Promise<DropboxCredentials>;
}

/** A refresh takes one request (30 s at most); a lease outlives it, then anyone may take over. */
const LEASE_MS = 35_000;
/** How long others wait for the holder's new token before their call fails (and is retried). */
const WAIT_MS = 20_000;
const POLL_MS = 200;
const MAX_MARGIN_MS = 5 * 60_000;

export const REFRESH_REFUSED_MESSAGE =
  'Dropbox no longer accepts this connection\'s refresh token (access was revoked, or the app was removed or its secret changed). ' +
  'Reconnect the Dropbox account: "Connect with Dropbox" again, or save new credentials with PUT .../connections/{connectionId}/token.';

/**
 * Refreshes ahead of expiry by a tenth of the token's lifetime, at most five minutes: the SDK's
 * fixed five minutes would refresh a 15-second test token on every call.
 */
export function refreshDue(connection: Connection, now: number): boolean {
  const expiresAt = connection.accessTokenExpiresAt?.getTime();
  if (expiresAt === undefined) return true;
  const issuedAt = (connection.lastRefreshAt ?? connection.tokenUpdatedAt).getTime();
  const margin = Math.min(Math.max(expiresAt - issuedAt, 0) / 10, MAX_MARGIN_MS);
  return now >= expiresAt - margin;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * One refresh per connection at a time across every worker and API process: whoever takes the
 * connection's lease refreshes and stores the new token (sealed, with its expiry); the others
 * re-read the connection until it appears. Nothing here is process-local but the holder's name.
 */
export function createCredentialsProvider(deps: CredentialsProviderDeps): CredentialsProvider {
  const now = deps.now ?? Date.now;
  const holder = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  const { connections, refreshLeases } = deps.store;

  function refused(): DropboxCredentialsError {
    return new DropboxCredentialsError('refresh_refused', REFRESH_REFUSED_MESSAGE);
  }

  async function reread(id: string): Promise<Connection> {
    const connection = await connections.getById(id);
    if (!connection) {
      throw new DropboxCredentialsError('invalid_token', 'The Dropbox connection was removed; connect the account again');
    }
    return connection;
  }

  /**
   * Dropbox asked the connection to wait (a 429 to any of its calls, the token endpoint's too):
   * nothing is asked of Dropbox for it until then, by any process.
   */
  function waitOut(connection: Connection): void {
    const waitMs = (connection.rateLimitedUntil?.getTime() ?? 0) - now();
    if (waitMs > 0) throw new DropboxRateLimitError(waitMs);
  }

  /** The current token unless it is due or is the one Dropbox just refused (`stale`). */
  function usable(connection: Connection, stale: string | undefined): string | undefined {
    if (connection.refreshRefused) throw refused();
    const token = deps.cipher.open(connection.token, { connectionId: connection._id });
    return token !== stale && !refreshDue(connection, now()) ? token : undefined;
  }

  async function refreshUnderLease(connection: Connection): Promise<string> {
    const { refreshToken, appKey, appSecret } = connection;
    if (!refreshToken || !appKey) throw refused();
    let grant;
    try {
      grant = await deps.tokens.refreshAccessToken({
        refreshToken: deps.cipher.open(refreshToken, { connectionId: connection._id }),
        appKey,
        ...(appSecret ? { appSecret: deps.cipher.open(appSecret, { connectionId: connection._id }) } : {}),
      });
    } catch (err) {
      if (err instanceof DropboxGrantError && err.problem !== 'invalid_request') {
        tokenRefreshes.inc({ result: 'refused' });
        await connections.markRefreshRefused(connection._id, refreshToken, err.problem);
        throw refused();
      }
      // 5xx, 429, network: the caller's retry policy tries again; the refresh token stands.
      tokenRefreshes.inc({ result: 'failed' });
      if (err instanceof DropboxRateLimitError) {
        await connections.setRateLimitedUntil(connection.accountId, new Date(now() + err.retryAfterMs));
      }
      throw err;
    }
    tokenRefreshes.inc({ result: 'ok' });
    const at = now();
    await connections.storeRefreshedToken(
      connection._id,
      refreshToken,
      { token: deps.cipher.seal(grant.accessToken, { connectionId: connection._id }), accessTokenExpiresAt: new Date(at + grant.expiresInSeconds * 1000) },
      new Date(at),
    );
    return grant.accessToken;
  }

  async function fresh(given: Connection, stale: string | undefined): Promise<string> {
    const deadline = now() + WAIT_MS;
    let connection = given;
    for (;;) {
      const token = usable(connection, stale);
      if (token) return token;
      const at = now();
      if (await refreshLeases.take(connection._id, holder, new Date(at), new Date(at + LEASE_MS))) {
        try {
          // Someone may have refreshed, or been told to wait, between our read and our lease.
          const latest = await reread(connection._id);
          waitOut(latest);
          return usable(latest, stale) ?? (await refreshUnderLease(latest));
        } finally {
          await refreshLeases.release(connection._id, holder);
        }
      }
      if (now() >= deadline) {
        throw new DropboxUnavailableError('Another process is refreshing the Dropbox access token; try again shortly');
      }
      await sleep(POLL_MS);
      connection = await reread(connection._id);
    }
  }

  return {
    async forConnection(connection) {
      waitOut(connection);
      const root = {
        ...(connection.rootNamespaceId ? { rootNamespaceId: connection.rootNamespaceId } : {}),
        rerooted: (rootNamespaceId: string | undefined) => connections.setRootNamespace(connection._id, rootNamespaceId),
        rateLimited: (retryAfterMs: number) => connections.setRateLimitedUntil(connection.accountId, new Date(now() + retryAfterMs)),
      };
      if (connection.credentialKind !== 'refresh_token') {
        return { token: deps.cipher.open(connection.token, { connectionId: connection._id }), ...root };
      }
      return {
        token: await fresh(connection, undefined),
        ...root,
        renew: async (stale) => fresh(await reread(connection._id), stale),
      };
    },
  };
}
