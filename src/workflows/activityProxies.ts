import { proxyActivities, proxyLocalActivities, type ActivityOptions } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { FailureTypes } from '../domain/failureTypes';

// Dropbox calls: outages and rate limits are retried here (429 waits for its Retry-After through
// `nextRetryDelay`); what the admin must fix is not retried and reaches the workflow at once.
// Local activities: an idle cycle (validate, list one empty page) then fits in one workflow task,
// a handful of history events instead of a dozen and a half.
const dropboxCalls: ActivityOptions = {
  startToCloseTimeout: '1 minute',
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

export const dropbox = proxyLocalActivities<Activities>(dropboxCalls);

// The further pages of a long listing: a local activity holds back the workflow task that
// schedules the recording of the page before, so these run as activities, beside that recording.
export const dropboxPaging = proxyActivities<Activities>(dropboxCalls);

// Database writes are idempotent, so they retry until the database is back. They heartbeat, so
// a worker that died mid-write is noticed in seconds rather than at the end of the timeout.
export const records = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '10 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

// A listing on one worker: its pages are checked and recorded by local activities of the workflow
// task that lists them, on the worker that holds them in memory (no page goes through MongoDB, no
// task through the server). The writes retry as above, but a local activity's retries keep its
// workflow task heartbeating, a few history events each time; past ten minutes the cycle ends
// with the error instead, and the next one lists from the saved cursor.
export const localRecords = proxyLocalActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  scheduleToCloseTimeout: '10 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

// File contents: a regular activity any worker may run, apart from the listing's workflow task.
// It heartbeats with its progress, so a dead worker's copy moves elsewhere within the heartbeat
// timeout and a pause or an unmap reaches it (cancellation arrives with a heartbeat). Files that
// did not arrive intact make it fail; the retries back off, and a file that keeps mismatching its
// hash ends `failed` inside the activity.
export const contents = proxyActivities<Activities>({
  startToCloseTimeout: '3 hours',
  heartbeatTimeout: '30 seconds',
  retry: {
    initialInterval: '2 seconds',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    maximumAttempts: 6,
    nonRetryableErrorTypes: [FailureTypes.credentialsRejected, FailureTypes.mappingGone, FailureTypes.badRequest],
  },
});
