import { ApplicationFailure } from '@temporalio/common';
import type { DropboxCredentials } from '../dropbox/client';
import type { Connection, Mapping } from '../domain/types';
import { isLive } from '../domain/mappingState';
import type { ActivityDeps } from './deps';
import { FailureTypes } from './failures';

export interface MappingCredentials {
  mapping: Mapping;
  connection: Connection;
  credentials: DropboxCredentials;
}

/**
 * Loads a mapping's connection and opens its token inside the activity, so the token never
 * travels through workflow inputs, results or history.
 */
export async function loadMappingCredentials(deps: ActivityDeps, mappingId: string): Promise<MappingCredentials> {
  const mapping = await deps.repos.mappings.getById(mappingId);
  if (!mapping || !isLive(mapping.state)) {
    throw ApplicationFailure.nonRetryable(`Mapping ${mappingId} no longer exists`, FailureTypes.mappingGone);
  }
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
