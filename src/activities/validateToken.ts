import { ApplicationFailure } from '@temporalio/common';
import type { ActivityDeps } from './deps';
import { asActivityFailure, FailureTypes } from './failures';
import { listingPolicyOf } from './listingPolicy';
import { loadMappingCredentials, type CredentialSources } from './mappingCredentials';

export interface ValidateTokenInput {
  mappingId: string;
}

/** One Dropbox call: is the mapping's token still good, and still for the connected account? */
export function createValidateToken(deps: ActivityDeps, { mappings, checked }: CredentialSources) {
  // The worker's settings: the same for every call it runs.
  const listingPolicy = listingPolicyOf(deps);
  /** `listingPolicy`: this worker's (see listingPolicy.ts); a mapping listed under another is listed again. */
  return async function validateToken({ mappingId }: ValidateTokenInput): Promise<{ accountId: string; listingPolicy: string }> {
    const loaded = await loadMappingCredentials(deps, mappings, mappingId);
    const { connection, credentials } = loaded;
    const account = await asActivityFailure(() => deps.dropbox.getAccount(credentials));
    if (account.accountId !== connection.accountId) {
      throw ApplicationFailure.nonRetryable(
        'The token now belongs to another Dropbox account than the one connected; enter a token for ' +
          connection.accountEmail,
        FailureTypes.credentialsRejected,
        { problem: 'identity_mismatch' },
      );
    }
    checked?.keep(mappingId, loaded);
    return { accountId: account.accountId, listingPolicy };
  };
}
