import type { DropboxAccount, DropboxClient } from '../dropbox/client';
import { DropboxGrantError } from '../dropbox/tokenEndpoint';
import type { Connection } from '../domain/types';
import { NotFoundError, RefreshTokenHeldError } from '../db/errors';
import { newId } from '../db/ids';
import { checkToken, connectionNotFound, tokenWarnings } from './connectionAccess';
import type { AppDeps } from './deps';
import { dropboxFailure } from './dropboxErrors';
import { ApiError } from './errors';

/** Either credential shape an admin (or the OAuth callback) hands over. */
export interface GivenCredentials {
  accessToken?: string | undefined;
  refreshToken?: string | undefined;
  appKey?: string | undefined;
  appSecret?: string | undefined;
}

export interface Warning {
  code: string;
  message: string;
}

/** Credentials that passed the login checks, still in clear: sealed by `storedCredentials`. */
export interface CheckedCredentials {
  account: DropboxAccount;
  accessToken: string;
  refresh?: { refreshToken: string; appKey: string; appSecret?: string; expiresInSeconds: number };
  warnings: Warning[];
}

const SHORT_LIVED_WARNING: Warning = {
  code: 'short_lived_token',
  message:
    'This is a short-lived access token: Dropbox ends it four hours after it was generated, and the mappings then wait ' +
    'for new credentials. Connect with Dropbox instead, or give a refresh token with your app key: on the admin page ' +
    'under "Use a refresh token instead", or {refreshToken, appKey, appSecret?} through PUT .../connections/{connectionId}/token.',
};

/**
 * "Login" for either shape: an access token is checked as it is; a refresh token is checked by
 * one refresh, then its access token as at login. Nothing is stored before this passes.
 */
export async function checkCredentials(dropbox: DropboxClient, given: GivenCredentials): Promise<CheckedCredentials> {
  if (given.accessToken !== undefined) {
    const account = await checkToken(dropbox, given.accessToken);
    return {
      account,
      accessToken: given.accessToken,
      warnings: [
        ...(given.accessToken.startsWith('sl.') ? [SHORT_LIVED_WARNING] : []),
        ...(await tokenWarnings(dropbox, given.accessToken, account)),
      ],
    };
  }
  const refreshToken = given.refreshToken ?? '';
  const appKey = given.appKey ?? '';
  const grant = await dropbox
    .refreshAccessToken({ refreshToken, appKey, ...(given.appSecret !== undefined ? { appSecret: given.appSecret } : {}) })
    .catch((err: unknown) => {
      if (err instanceof DropboxGrantError && err.problem === 'invalid_client') {
        throw new ApiError(
          422,
          'invalid_app_credentials',
          'Dropbox refused the app key or app secret. Copy both from the Settings tab of your app in the Dropbox App Console; ' +
            'leave the secret out only for a refresh token issued to a PKCE flow.',
        );
      }
      if (err instanceof DropboxGrantError) {
        throw new ApiError(
          422,
          'invalid_refresh_token',
          'Dropbox does not accept the refresh token (revoked, or issued to another app). Run the offline code flow of your app again, ' +
            'or Connect with Dropbox.',
        );
      }
      return dropboxFailure(err, 'given');
    });
  const account = await checkToken(dropbox, grant.accessToken);
  return {
    account,
    accessToken: grant.accessToken,
    refresh: {
      refreshToken,
      appKey,
      ...(given.appSecret !== undefined ? { appSecret: given.appSecret } : {}),
      expiresInSeconds: grant.expiresInSeconds,
    },
    warnings: await tokenWarnings(dropbox, grant.accessToken, account),
  };
}

/** What the connection keeps of the account; a team account's root namespace included. */
export function accountFields(account: DropboxAccount) {
  return {
    accountId: account.accountId,
    accountEmail: account.email,
    accountName: account.name,
    ...(account.rootNamespaceId ? { rootNamespaceId: account.rootNamespaceId } : {}),
  };
}

/** The credentials sealed to their connection: copied into another connection's record, they do not open. */
function sealed(cipher: AppDeps['cipher'], checked: CheckedCredentials, now: Date, connectionId: string) {
  const { refresh } = checked;
  const bound = { connectionId };
  return {
    token: cipher.seal(checked.accessToken, bound),
    ...(refresh
      ? {
          refresh: {
            refreshToken: cipher.seal(refresh.refreshToken, bound),
            appKey: refresh.appKey,
            ...(refresh.appSecret !== undefined ? { appSecret: cipher.seal(refresh.appSecret, bound) } : {}),
            accessTokenExpiresAt: new Date(now.getTime() + refresh.expiresInSeconds * 1000),
          },
        }
      : {}),
  };
}

type Deps = Pick<AppDeps, 'repos' | 'cipher' | 'syncWorkflows' | 'log'>;

export async function createConnection(
  deps: Deps,
  projectId: string,
  clientIdentification: string,
  checked: CheckedCredentials,
): Promise<Connection> {
  const now = new Date();
  const id = newId();
  const connection = await deps.repos.connections.create(
    { id, projectId, clientIdentification, ...accountFields(checked.account), ...sealed(deps.cipher, checked, now, id) },
    now,
  );
  deps.log.info('dropbox connection created', { projectId, connectionId: connection._id, kind: connection.credentialKind });
  return connection;
}

/** 409: a working refresh token is not replaced by an access token. */
export function refreshTokenHeld(accountEmail: string): ApiError {
  return new ApiError(
    409,
    'refresh_token_held',
    `The connection to ${accountEmail} holds a refresh token, which renews its access itself: an access token ` +
      'in its place would stop syncing within four hours. To reconnect it, use Connect with Dropbox or give a refresh token ' +
      '(on the admin page under "Use a refresh token instead", or {refreshToken, appKey, appSecret?}); to use an access token ' +
      'instead, delete the connection and log in again.',
  );
}

/** New credentials for a connection; its mappings waiting for credentials resume at once. */
export async function replaceCredentials(deps: Deps, connection: Connection, checked: CheckedCredentials): Promise<Connection> {
  const now = new Date();
  const { token, refresh } = sealed(deps.cipher, checked, now, connection._id);
  const updated = await deps.repos.connections
    .replaceToken(connection._id, token, accountFields(checked.account), now, refresh)
    .catch((err: unknown) => {
      // Deleted by another request since it was read, or given a refresh token meanwhile.
      if (err instanceof RefreshTokenHeldError) throw refreshTokenHeld(connection.accountEmail);
      throw err instanceof NotFoundError ? connectionNotFound(connection._id) : err;
    });
  // Mappings waiting for credentials retry at once instead of at their next interval. A failed
  // signal is not the admin's problem: the workflow retries the stored token every interval.
  const mappings = await deps.repos.mappings.listLiveByConnection(connection._id);
  const results = await Promise.allSettled(mappings.map((m) => deps.syncWorkflows.signal(m, 'credentialsUpdated')));
  results.forEach((r, i) => {
    if (r.status === 'rejected') {
      deps.log.warn('credentialsUpdated signal failed', { mappingId: mappings[i]?._id, error: r.reason as unknown });
    }
  });
  deps.log.info('dropbox token replaced', {
    projectId: connection.projectId,
    connectionId: connection._id,
    kind: updated.credentialKind,
    mappingsSignalled: mappings.length,
  });
  return updated;
}
