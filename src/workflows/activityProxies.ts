import { ActivityCancellationType, proxyActivities, type ActivityOptions } from '@temporalio/workflow';
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
      FailureTypes.featureDisabled,
      FailureTypes.cursorReset,
      FailureTypes.folderMissing,
      FailureTypes.mappingGone,
      FailureTypes.badRequest,
    ],
  },
};

export const dropbox = proxyActivities<Activities>(dropboxCalls);

// Database writes are idempotent, so they retry until the database is back. They heartbeat, so
// a worker that died mid-write is noticed in seconds rather than at the end of the timeout. A
// cancelled write (pause, unmap) is waited for, since it runs to its end: the next write (the
// paused state, the next cycle's pages) must never land before it.
export const records = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '10 seconds',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

// File contents: a regular activity any worker may run, on the contents task queue (taskQueues.ts).
// It heartbeats with its progress, so a dead worker's copy moves elsewhere within the heartbeat
// timeout and a pause or an unmap reaches it (cancellation arrives with a heartbeat). Files that
// did not arrive intact make it fail; the retries back off, and a file that keeps mismatching its
// hash ends `failed` inside the activity.
export const contentsOn = (taskQueue: string) =>
  proxyActivities<Activities>({
    taskQueue,
    startToCloseTimeout: '3 hours',
    heartbeatTimeout: '30 seconds',
    // A cancelled copy settles only once it has stopped writing: the next copy starts after it.
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: {
      initialInterval: '2 seconds',
      backoffCoefficient: 2,
      maximumInterval: '1 minute',
      maximumAttempts: 6,
      nonRetryableErrorTypes: [
        FailureTypes.credentialsRejected,
        FailureTypes.featureDisabled,
        FailureTypes.mappingGone,
        FailureTypes.badRequest,
      ],
    },
  });
