import { ApplicationFailure, ApplicationFailureCategory } from '@temporalio/common';
import {
  DropboxCredentialsError,
  DropboxCursorResetError,
  DropboxPathError,
  DropboxRateLimitError,
  DropboxRequestError,
} from '../dropbox/errors';
import { FailureTypes } from '../domain/failureTypes';
import { DropboxGrantError } from '../dropbox/tokenEndpoint';

export { FailureTypes };

/**
 * What Dropbox says about the admin's setup, or a rate limit: expected outcomes the workflow acts
 * on, so the worker logs them at debug level instead of as failures, and counts no failure metric.
 */
function expected(message: string, type: string, options: { details?: unknown[]; nextRetryDelay?: number } = {}) {
  return ApplicationFailure.create({
    message,
    type,
    nonRetryable: options.nextRetryDelay === undefined,
    category: ApplicationFailureCategory.BENIGN,
    ...options,
  });
}

/** The organization's Dropbox feature is off: the mapping waits, touching nothing in Dropbox. */
export function featureDisabledFailure() {
  return expected(
    "The organization's Dropbox feature is turned off; syncing resumes once it is enabled again",
    FailureTypes.featureDisabled,
  );
}

/**
 * Maps an adapter error onto what Temporal should do: credentials, a vanished folder and a reset
 * cursor are not retried (the workflow decides), a rate limit retries after Retry-After, and an
 * outage is left to the activity's retry policy.
 */
export function toActivityFailure(err: unknown): unknown {
  if (err instanceof DropboxCredentialsError) {
    return expected(err.message, FailureTypes.credentialsRejected, {
      details: [{ problem: err.problem, requiredScope: err.requiredScope ?? null }],
    });
  }
  if (err instanceof DropboxCursorResetError) {
    return expected(err.message, FailureTypes.cursorReset);
  }
  if (err instanceof DropboxPathError) {
    return expected(err.message, FailureTypes.folderMissing, { details: [{ problem: err.problem }] });
  }
  if (err instanceof DropboxRateLimitError) {
    return expected(err.message, FailureTypes.rateLimited, { nextRetryDelay: err.retryAfterMs });
  }
  // A token request Dropbox calls malformed (its refusals of the refresh token itself are
  // credential errors by now): asking again within the cycle gets the same answer.
  if (err instanceof DropboxRequestError || err instanceof DropboxGrantError) {
    return ApplicationFailure.nonRetryable(err.message, FailureTypes.badRequest);
  }
  return err;
}

export async function asActivityFailure<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw toActivityFailure(err);
  }
}
