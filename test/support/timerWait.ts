import assert from 'node:assert/strict';
import type { WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { eventually } from './eventually';

const { EventType } = temporal.api.enums.v1;

/*
 * The time-skipping test server can lose a query that meets a run's continue-as-new, and then
 * leaves the next calls hanging. A run that has settled (its last task asked for nothing but a
 * timer, or for nothing at all) only moves on a timer or a signal; with time skipping locked, as
 * it is between `env.sleep` calls, a five-minute timer is minutes of real time away.
 */

/** The last events of a task after which a run waits for a timer or a signal. */
const SETTLED = new Set([
  EventType.EVENT_TYPE_TIMER_STARTED,
  EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
  EventType.EVENT_TYPE_MARKER_RECORDED,
  EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES,
]);

const ACTIVITY_ENDS = new Set([
  EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED,
  EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED,
  EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT,
  EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED,
]);

/**
 * Whether the latest run waits on its poll timer with no activity running: the timer is its last
 * event, or its last task completed after the timer started (a contents copy that ran beside the
 * cycle and ended while the run waited).
 */
async function waitingOnTimer(handle: WorkflowHandle): Promise<boolean> {
  const events = (await handle.fetchHistory()).events ?? [];
  const last = events.at(-1)?.eventType;
  // A contents copy scheduled just before the timer may still run: a pause sent now would cancel
  // it, and the test server can refuse that cancellation (see untilSettled).
  if (last === EventType.EVENT_TYPE_TIMER_STARTED) return noActivityRunning(events);
  if (last !== EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED) return false;
  const timerAt = events.map((e) => e.eventType).lastIndexOf(EventType.EVENT_TYPE_TIMER_STARTED);
  if (timerAt < 0) return false;
  const after = events.slice(timerAt + 1).map((e) => e.eventType);
  if (after.some((t) => t === EventType.EVENT_TYPE_TIMER_FIRED || t === EventType.EVENT_TYPE_TIMER_CANCELED)) return false;
  return noActivityRunning(events);
}

function noActivityRunning(events: { eventType?: temporal.api.enums.v1.EventType | null }[]): boolean {
  const scheduled = events.filter((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED).length;
  const ended = events.filter((e) => e.eventType !== null && e.eventType !== undefined && ACTIVITY_ENDS.has(e.eventType)).length;
  return scheduled === ended;
}

/** Runs `query` only once the latest run waits on its poll timer, and fails otherwise (for `eventually` to try again). */
export async function whenWaitingOnTimer<T>(handle: WorkflowHandle, query: () => Promise<T>): Promise<T> {
  assert.ok(await waitingOnTimer(handle), 'the latest run is not on its timer yet');
  return query();
}

/**
 * Waits until the latest run has settled: on its timer, paused, or waiting for credentials. Also
 * before a signal that cancels a cycle (pause, unmap): the test server can refuse the
 * cancellation of an activity that has just completed (ACTIVITY_UNKNOWN) and then never
 * schedules the run's next task.
 */
export async function untilSettled(handle: WorkflowHandle): Promise<void> {
  await eventually(
    async () => {
      const events = (await handle.fetchHistory()).events ?? [];
      const last = events.at(-1)?.eventType;
      assert.ok(last !== null && last !== undefined && SETTLED.has(last), `the latest run is busy (last event ${last})`);
      assert.ok(noActivityRunning(events), 'an activity of the latest run is still running (a contents copy)');
    },
    20_000,
    50,
  );
}

/** Waits until the latest run has settled, then runs `query`. */
export async function whenSettled<T>(handle: WorkflowHandle, query: () => Promise<T>): Promise<T> {
  await untilSettled(handle);
  return query();
}
