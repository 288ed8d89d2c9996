/**
 * What a workflow left in Temporal: its runs (continue-as-new makes several), their history
 * lengths and sizes as the server counts them, and per-cycle timings read from the events.
 */
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { statusQuery } from '../src/workflows/definitions';
import { sleep } from './fixture';

export type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
const EventType = temporal.api.enums.v1.EventType;

export interface RunsSummary {
  runs: number;
  /** Continue-as-new count, as the workflow's status query reports it. */
  continuedAsNew: number;
  events: number;
  bytes: number;
  firstStart: Date;
}

/** Every run of the workflow id, summed; waits until visibility lists all the runs. */
export async function summarizeRuns(client: Client, workflowId: string): Promise<RunsSummary> {
  const status = await client.workflow.getHandle(workflowId).query(statusQuery);
  const expected = status.runs + 1;
  let runIds: string[] = [];
  for (let attempt = 0; attempt < 50; attempt++) {
    runIds = [];
    for await (const info of client.workflow.list({ query: `WorkflowId = "${workflowId}"` }))
      runIds.push(info.runId);
    if (runIds.length >= expected) break;
    await sleep(200);
  }
  let events = 0;
  let bytes = 0;
  let firstStart = new Date();
  for (const runId of runIds) {
    const d = await client.workflow.getHandle(workflowId, runId).describe();
    events += d.historyLength;
    bytes += d.historySize ?? 0;
    if (d.startTime < firstStart) firstStart = d.startTime;
  }
  return { runs: runIds.length, continuedAsNew: status.runs, events, bytes, firstStart };
}

export function eventTypeName(e: HistoryEvent): string {
  const name = EventType[e.eventType ?? 0] ?? String(e.eventType);
  return name.replace(/^EVENT_TYPE_/u, '');
}

function numberOf(v: number | { toNumber(): number } | null | undefined): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'number' ? v : v.toNumber();
}

export function timeMs(e: HistoryEvent): number {
  return numberOf(e.eventTime?.seconds) * 1000 + (e.eventTime?.nanos ?? 0) / 1e6;
}

function durationMs(d: temporal.api.history.v1.ITimerStartedEventAttributes['startToFireTimeout']): number {
  return numberOf(d?.seconds) * 1000 + (d?.nanos ?? 0) / 1e6;
}

/** The event types of each full idle cycle: from a TimerStarted up to and including the next one. */
export function cycleEventTypes(events: HistoryEvent[]): string[][] {
  const timers = events
    .map((e, i) => (e.eventType === EventType.EVENT_TYPE_TIMER_STARTED ? i : -1))
    .filter((i) => i >= 0);
  const cycles: string[][] = [];
  for (let k = 1; k < timers.length; k++) {
    cycles.push(events.slice((timers[k - 1] as number) + 1, (timers[k] as number) + 1).map(eventTypeName));
  }
  return cycles;
}

export interface CycleTiming {
  /** When the timer was due: TimerStarted time + its interval. */
  dueMs: number;
  /** Cycle start (its workflow task started) − due; a lower bound when `censored`. */
  lagMs: number;
  censored: boolean;
  /** TimerFired − due: the server's share. */
  fireDelayMs?: number;
  /** WorkflowTaskStarted − WorkflowTaskScheduled: waiting for a worker slot. */
  scheduleToStartMs?: number;
  /** WorkflowTaskCompleted − WorkflowTaskStarted: the cycle itself (local activities inside). */
  runMs?: number;
  /**
   * A continued run's first cycle only: how long the run took, from its start (the previous run's
   * continue-as-new), to start its poll timer. The cycle is due an interval after the run started,
   * so this delay counts in its lag.
   */
  runStartMs?: number;
}

/**
 * For every poll timer due in [fromMs, toMs): how late its cycle started. A timer due before
 * `toMs` whose cycle had not started by then counts as late by at least `toMs` − due. A continued
 * run's first cycle is due an interval after the run began, not after its timer started: a run
 * slow to start delays that cycle as much as a late timer would.
 */
export function cycleTimings(events: HistoryEvent[], fromMs: number, toMs: number): CycleTiming[] {
  const timings: CycleTiming[] = [];
  // By timer id: when its cycle was due, and when the timer itself was due (they differ for a
  // continued run's first timer, started late).
  const timers = new Map<string, { dueMs: number; timerDueMs: number }>();
  let pending: { dueMs: number; fireDelayMs: number } | undefined;
  let current: (CycleTiming & { scheduledMs: number }) | undefined;
  let scheduledMs = 0;
  // Set while a continued run has not yet started its first poll timer.
  let continuedAtMs: number | undefined;
  let runStartMs: number | undefined;
  for (const e of events) {
    const t = timeMs(e);
    switch (e.eventType) {
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
        if (e.workflowExecutionStartedEventAttributes?.continuedExecutionRunId) continuedAtMs = t;
        break;
      case EventType.EVENT_TYPE_TIMER_STARTED: {
        const attrs = e.timerStartedEventAttributes;
        const startedMs = continuedAtMs ?? t;
        if (continuedAtMs !== undefined) runStartMs = t - continuedAtMs;
        continuedAtMs = undefined;
        const duration = durationMs(attrs?.startToFireTimeout);
        timers.set(attrs?.timerId ?? '', { dueMs: startedMs + duration, timerDueMs: t + duration });
        break;
      }
      case EventType.EVENT_TYPE_TIMER_FIRED: {
        const id = e.timerFiredEventAttributes?.timerId ?? '';
        const due = timers.get(id);
        timers.delete(id);
        if (due !== undefined) pending = { dueMs: due.dueMs, fireDelayMs: t - due.timerDueMs };
        break;
      }
      case EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED:
        scheduledMs = t;
        break;
      case EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED:
        if (pending) {
          current = {
            dueMs: pending.dueMs,
            lagMs: t - pending.dueMs,
            censored: false,
            fireDelayMs: pending.fireDelayMs,
            scheduleToStartMs: t - scheduledMs,
            scheduledMs: t,
            ...(runStartMs !== undefined ? { runStartMs } : {}),
          };
          pending = undefined;
          runStartMs = undefined;
        }
        break;
      case EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
        if (current) {
          const { scheduledMs: startedMs, ...timing } = current;
          if (timing.dueMs >= fromMs && timing.dueMs < toMs)
            timings.push({ ...timing, runMs: t - startedMs });
          current = undefined;
        }
        break;
      default:
        break;
    }
  }
  if (current && current.dueMs >= fromMs && current.dueMs < toMs) {
    const { scheduledMs: _started, ...timing } = current;
    timings.push(timing);
  }
  // Due within the window but not started by its end: the worker never got to it.
  const unstarted = [...[...timers.values()].map((v) => v.dueMs), ...(pending ? [pending.dueMs] : [])];
  for (const due of unstarted) {
    if (due >= fromMs && due < toMs) timings.push({ dueMs: due, lagMs: toMs - due, censored: true });
  }
  return timings;
}

/** The events recorded in [fromMs, toMs), by type: what a cycle costs in history, replays included. */
export function eventsInWindow(events: HistoryEvent[], fromMs: number, toMs: number): Map<string, number> {
  const byType = new Map<string, number>();
  for (const e of events) {
    const t = timeMs(e);
    if (t < fromMs || t >= toMs) continue;
    const name = eventTypeName(e);
    byType.set(name, (byType.get(name) ?? 0) + 1);
  }
  return byType;
}

export async function fetchEvents(
  client: Client,
  workflowId: string,
  runId?: string,
): Promise<HistoryEvent[]> {
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  return history.events ?? [];
}

/** The activity type a local activity's marker records, if the event is one. */
export function localActivityType(e: HistoryEvent): string | undefined {
  const attrs = e.markerRecordedEventAttributes;
  if (e.eventType !== EventType.EVENT_TYPE_MARKER_RECORDED || attrs?.markerName !== 'core_local_activity') return undefined;
  const data = attrs.details?.['data']?.payloads?.[0]?.data;
  if (!data) return undefined;
  return (JSON.parse(Buffer.from(data).toString('utf8')) as { activity_type?: string }).activity_type;
}

/**
 * When the server recorded the last completion of `activityType` in these events, as an activity
 * or as a local activity's marker (written when the task that ran it completed), in ms since the
 * epoch; undefined when none. Unlike a time the workflow read from its own clock, it is never
 * earlier than the work it records.
 */
export function lastCompletionMs(events: HistoryEvent[], activityType: string): number | undefined {
  const scheduled = new Map<string, string>();
  let last: number | undefined;
  for (const e of events) {
    const attrs = e.activityTaskScheduledEventAttributes;
    if (attrs) scheduled.set(String(numberOf(e.eventId)), attrs.activityType?.name ?? '');
    const completed = e.activityTaskCompletedEventAttributes;
    const type = completed ? scheduled.get(String(numberOf(completed.scheduledEventId))) : localActivityType(e);
    if (type === activityType) last = timeMs(e);
  }
  return last;
}

/**
 * One line per activity and workflow task of a run, as offsets (ms) from the run's start: where
 * the wall time of a sync goes. Local activities show as the markers their task recorded.
 */
export function timeline(events: HistoryEvent[]): string[] {
  const start = events[0] ? timeMs(events[0]) : 0;
  const at = (e: HistoryEvent): string => `+${Math.round(timeMs(e) - start)}`;
  const scheduled = new Map<string, { name: string; at: string }>();
  const started = new Map<string, string>();
  const lines: string[] = [];
  let task: string | undefined;
  for (const e of events) {
    const id = String(numberOf(e.eventId));
    switch (e.eventType) {
      case EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED:
        task = at(e);
        break;
      case EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED:
        task = `${task ?? '?'}→${at(e)}`;
        break;
      case EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
        lines.push(`workflow task ${task ?? '?'}→${at(e)}`);
        break;
      case EventType.EVENT_TYPE_MARKER_RECORDED:
        lines.push(`  local activity (marker) ${at(e)}`);
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
        scheduled.set(id, {
          name: e.activityTaskScheduledEventAttributes?.activityType?.name ?? '?',
          at: at(e),
        });
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
        started.set(String(numberOf(e.activityTaskStartedEventAttributes?.scheduledEventId)), at(e));
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
      case EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED: {
        const attrs = e.activityTaskCompletedEventAttributes ?? e.activityTaskFailedEventAttributes;
        const key = String(numberOf(attrs?.scheduledEventId));
        const s = scheduled.get(key);
        lines.push(`  ${s?.name ?? '?'} ${s?.at ?? '?'}→${started.get(key) ?? '?'}→${at(e)}`);
        break;
      }
      default:
        break;
    }
  }
  return lines;
}

/**
 * The events of each run of the workflow that was running at or after `sinceMs`, oldest first:
 * a run that began after it continued one before, which the new run's first event names.
 */
export async function fetchRunsSince(
  client: Client,
  workflowId: string,
  sinceMs: number,
): Promise<HistoryEvent[][]> {
  const runs: HistoryEvent[][] = [];
  let runId: string | undefined;
  for (;;) {
    const events = await fetchEvents(client, workflowId, runId);
    runs.unshift(events);
    const first = events[0];
    const previous = first?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId;
    if (!first || !previous || timeMs(first) <= sinceMs) return runs;
    runId = previous;
  }
}
