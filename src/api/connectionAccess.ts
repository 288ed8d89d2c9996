import type { DropboxAccount, DropboxClient, DropboxCredentials } from '../dropbox/client';
import type { Connection } from '../domain/types';
import type { ApiRepositories } from './deps';
import { DropboxCredentialsError } from '../dropbox/errors';
import { dropboxFailure } from './dropboxErrors';
import { TokenDecryptionError, TokenKeyMismatchError } from '../security/tokenCipher';
import type { CredentialsProvider } from '../dropbox/credentials/credentialsProvider';
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

/**
 * The connection's credentials for one request (refreshed first when due, once across every
 * process); they live in memory for the request only.
 */
export async function credentialsOf(connection: Connection, provider: CredentialsProvider): Promise<DropboxCredentials> {
  try {
    return await provider.forConnection(connection);
  } catch (err) {
    if (!(err instanceof TokenKeyMismatchError || err instanceof TokenDecryptionError)) return dropboxFailure(err, 'stored');
    const keyChanged = err instanceof TokenKeyMismatchError;
    throw new ApiError(
      422,
      'token_unreadable',
      (keyChanged
        ? `The connection's stored access token was encrypted with a different TOKEN_ENCRYPTION_KEY (key id ${err.sealedKeyId})`
        : "The connection's stored access token is damaged and cannot be decrypted") +
        '; restore that key or save the token again with PUT .../connections/{connectionId}/token',
    );
  }
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

export interface TokenWarning {
  code: 'missing_content_scope';
  message: string;
}

/**
 * What a token accepted at login still lacks: without `files.content.read` the files are recorded
 * and their contents cannot be copied (the help page asks only for `files.metadata.read`).
 */
export async function tokenWarnings(
  dropbox: DropboxClient,
  token: string,
  account: DropboxAccount,
): Promise<TokenWarning[]> {
  try {
    await dropbox.checkFileContentScope({
      token,
      ...(account.rootNamespaceId ? { rootNamespaceId: account.rootNamespaceId } : {}),
    });
    return [];
  } catch (err) {
    if (err instanceof DropboxCredentialsError && err.problem === 'missing_scope') {
      return [
        {
          code: 'missing_content_scope',
          message:
            'The token may read file metadata but not file contents: files will be recorded, their contents not copied. Add the "files.content.read" scope to the Dropbox app, generate a new token and replace it.',
        },
      ];
    }
    return dropboxFailure(err, 'given');
  }
}
