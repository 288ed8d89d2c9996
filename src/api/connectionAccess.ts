import type { DropboxAccount, DropboxClient, DropboxCredentials } from '../dropbox/client';
import type { Connection } from '../domain/types';
import type { ApiRepositories, TokenSealer } from './deps';
import { dropboxFailure } from './dropboxErrors';
import { ApiError } from './errors';

/** The connection, if it belongs to the project; another project's connection is just not found. */
export async function findConnection(
  repos: Pick<ApiRepositories, 'connections'>,
  projectId: string,
  connectionId: string,
): Promise<Connection> {
  const connection = await repos.connections.get(projectId, connectionId);
  if (!connection) throw connectionNotFound(connectionId);
  return connection;
}

export function connectionNotFound(connectionId: string): ApiError {
  return new ApiError(404, 'connection_not_found', `This project has no Dropbox connection ${connectionId}`, {
    connectionId,
  });
}

/** Opens the stored token for one call; it lives in memory for the request only. */
export function credentialsOf(connection: Connection, cipher: TokenSealer): DropboxCredentials {
  let token: string;
  try {
    token = cipher.open(connection.token);
  } catch {
    // Sealed under a key this API no longer has (TOKEN_ENCRYPTION_KEY changed).
    throw new ApiError(
      422,
      'invalid_token',
      "The connection's stored access token cannot be read any more; save a new one with PUT .../connections/{connectionId}/token",
    );
  }
  return { token, ...(connection.rootNamespaceId ? { rootNamespaceId: connection.rootNamespaceId } : {}) };
}

/**
 * "Login": the token is valid, unexpired, may read file metadata, and tells whose account it
 * is. Nothing is stored before this passes.
 */
export async function checkToken(dropbox: DropboxClient, token: string): Promise<DropboxAccount> {
  try {
    const account = await dropbox.getAccount({ token });
    await dropbox.checkFileMetadataScope({
      token,
      ...(account.rootNamespaceId ? { rootNamespaceId: account.rootNamespaceId } : {}),
    });
    return account;
  } catch (err) {
    return dropboxFailure(err, 'given');
  }
}
