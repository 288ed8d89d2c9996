import { ApplicationFailure } from '@temporalio/common';
import type { DropboxCredentials } from '../dropbox/client';
import type { Connection } from '../domain/types';
import type { CheckedCredentials } from './checkedCredentials';
import type { ActivityDeps } from './deps';
import { FailureTypes } from './failures';
import type { KnownMappings, MappingFacts } from './knownMappings';

export interface MappingCredentials {
  mapping: MappingFacts;
  connection: Connection;
  credentials: DropboxCredentials;
}

/** Where a worker's activities find a mapping's credentials; one of each per worker. */
export interface CredentialSources {
  mappings: KnownMappings;
  /** What the cycle's token check loaded, for the listing that follows it. */
  checked?: CheckedCredentials;
}

/**
 * Loads a mapping's connection and opens its token inside the activity, so the token never
 * travels through workflow inputs, results or history. The connection is read every time: its
 * token is what an admin replaces.
 */
export async function loadMappingCredentials(
  deps: ActivityDeps,
  mappings: KnownMappings,
  mappingId: string,
): Promise<MappingCredentials> {
  const mapping = await mappings.get(mappingId);
  const connection = await deps.repos.connections.getById(mapping.connectionId);
  if (!connection) {
    throw ApplicationFailure.nonRetryable(
      'The Dropbox connection of this mapping was removed; connect the account again',
      FailureTypes.credentialsRejected,
      { problem: 'connection_removed' },
    );
  }
  let token: string;
  try {
    token = deps.openToken(connection.token);
  } catch (err) {
    // A changed TOKEN_ENCRYPTION_KEY: the admin must restore the key or enter the token again.
    throw ApplicationFailure.nonRetryable((err as Error).message, FailureTypes.credentialsRejected, {
      problem: 'token_unreadable',
    });
  }
  const credentials: DropboxCredentials = { token };
  if (connection.rootNamespaceId) credentials.rootNamespaceId = connection.rootNamespaceId;
  return { mapping, connection, credentials };
}
