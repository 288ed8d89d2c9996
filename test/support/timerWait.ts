import assert from 'node:assert/strict';
import type { WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

const { EventType } = temporal.api.enums.v1;

/**
 * Runs `query` only once the workflow's latest run waits on its poll timer, and fails otherwise
 * (for `eventually` to try again). The time-skipping test server can lose a query that meets a
 * run's continue-as-new, and then leaves the next calls hanging; a run on its timer is not about
 * to continue as new.
 */
export async function whenWaitingOnTimer<T>(handle: WorkflowHandle, query: () => Promise<T>): Promise<T> {
  const { events } = await handle.fetchHistory();
  assert.equal(events?.at(-1)?.eventType, EventType.EVENT_TYPE_TIMER_STARTED, 'the latest run is not on its timer yet');
  return query();
}
