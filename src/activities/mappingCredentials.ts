import { ApplicationFailure } from '@temporalio/common';
import type { DropboxCredentials } from '../dropbox/client';
import type { Connection } from '../domain/types';
import type { CheckedCredentials } from './checkedCredentials';
import type { ActivityDeps } from './deps';
import { FailureTypes, featureDisabledFailure, toActivityFailure } from './failures';
import { TokenDecryptionError, TokenKeyMismatchError } from '../security/tokenCipher';
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
 * Loads a mapping's connection and its credentials inside the activity, so no token ever travels
 * through workflow inputs, results or history; first, the organization must have the Dropbox
 * feature. The connection is read every time: its token is what an admin replaces, and what
 * another worker refreshes.
 */
export async function loadMappingCredentials(
  deps: ActivityDeps,
  mappings: KnownMappings,
  mappingId: string,
): Promise<MappingCredentials> {
  const mapping = await mappings.get(mappingId);
  // Read on every call: an organization that loses the feature stops syncing at its mappings'
  // next cycle or copy, before any Dropbox call (a token refresh included).
  const org = mapping.orgId === null ? null : await deps.repos.orgs.get(mapping.orgId);
  if (!org?.features.dropbox) throw featureDisabledFailure();
  const connection = await deps.repos.connections.getById(mapping.connectionId);
  if (!connection) {
    throw ApplicationFailure.nonRetryable(
      'The Dropbox connection of this mapping was removed; connect the account again',
      FailureTypes.credentialsRejected,
      { problem: 'connection_removed' },
    );
  }
  let credentials: DropboxCredentials;
  try {
    // A refresh-token connection's access token is refreshed here when due, once across workers.
    credentials = await deps.credentials.forConnection(connection);
  } catch (err) {
    if (err instanceof TokenKeyMismatchError || err instanceof TokenDecryptionError) {
      // A changed TOKEN_ENCRYPTION_KEY: the admin must restore the key or enter the token again.
      throw ApplicationFailure.nonRetryable(err.message, FailureTypes.credentialsRejected, {
        problem: 'token_unreadable',
      });
    }
    throw toActivityFailure(err);
  }
  return { mapping, connection, credentials };
}
