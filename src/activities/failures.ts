import { ApplicationFailure } from '@temporalio/common';
import {
  DropboxCredentialsError,
  DropboxCursorResetError,
  DropboxPathError,
  DropboxRateLimitError,
  DropboxRequestError,
} from '../dropbox/errors';
import { FailureTypes } from '../domain/failureTypes';

export { FailureTypes };


/**
 * Maps an adapter error onto what Temporal should do: credentials, a vanished folder and a reset
 * cursor are not retried (the workflow decides), a rate limit retries after Retry-After, and an
 * outage is left to the activity's retry policy.
 */
export function toActivityFailure(err: unknown): unknown {
  if (err instanceof DropboxCredentialsError) {
    return ApplicationFailure.nonRetryable(err.message, FailureTypes.credentialsRejected, {
      problem: err.problem,
      requiredScope: err.requiredScope ?? null,
    });
  }
  if (err instanceof DropboxCursorResetError) {
    return ApplicationFailure.nonRetryable(err.message, FailureTypes.cursorReset);
  }
  if (err instanceof DropboxPathError) {
    return ApplicationFailure.nonRetryable(err.message, FailureTypes.folderMissing, { problem: err.problem });
  }
  if (err instanceof DropboxRateLimitError) {
    return ApplicationFailure.create({
      message: err.message,
      type: FailureTypes.rateLimited,
      nextRetryDelay: err.retryAfterMs,
    });
  }
  if (err instanceof DropboxRequestError) {
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
