import { proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { FailureTypes } from '../domain/failureTypes';

// Every step of a cycle is a regular activity: any worker may run it, each is an event in the
// history (by its name in the Web UI), and the workflow answers queries and signals between them.

// Dropbox calls: outages and rate limits are retried here (429 waits for its Retry-After through
// `nextRetryDelay`); what the admin must fix is not retried and reaches the workflow at once.
// They heartbeat, so a worker that died mid-call is noticed in seconds.
const dropboxCalls: ActivityOptions = {
  startToCloseTimeout: '1 minute',
  heartbeatTimeout: '10 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    maximumAttempts: 10,
    nonRetryableErrorTypes: [
      FailureTypes.credentialsRejected,
      FailureTypes.cursorReset,
      FailureTypes.folderMissing,
      FailureTypes.mappingGone,
      FailureTypes.badRequest,
    ],
  },
};

export const dropbox = proxyActivities<Activities>(dropboxCalls);

// Database writes are idempotent, so they retry until the database is back. They heartbeat, so
// a worker that died mid-write is noticed in seconds rather than at the end of the timeout.
export const records = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '10 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});
