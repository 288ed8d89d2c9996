/** The benchmark's cycle lag, read from histories: a late-starting continued run counts. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { msToTs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { cycleTimings, lastCompletionMs } from '../../bench/history';

const EventType = temporal.api.enums.v1.EventType;
type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

const at = (ms: number) => msToTs(ms);
const INTERVAL = 300_000;

/** A run that starts its poll timer `startDelayMs` after it began, and runs one cycle. */
function run(beganMs: number, startDelayMs: number, options: { continued: boolean; taskWaitMs: number }): HistoryEvent[] {
  const timerAt = beganMs + startDelayMs;
  const firedAt = timerAt + INTERVAL;
  return [
    {
      eventType: EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
      eventTime: at(beganMs),
      workflowExecutionStartedEventAttributes: options.continued ? { continuedExecutionRunId: 'previous-run' } : {},
    },
    { eventType: EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, eventTime: at(beganMs) },
    { eventType: EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED, eventTime: at(timerAt - 10) },
    { eventType: EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED, eventTime: at(timerAt) },
    {
      eventType: EventType.EVENT_TYPE_TIMER_STARTED,
      eventTime: at(timerAt),
      timerStartedEventAttributes: { timerId: '1', startToFireTimeout: msToTs(INTERVAL) },
    },
    { eventType: EventType.EVENT_TYPE_TIMER_FIRED, eventTime: at(firedAt), timerFiredEventAttributes: { timerId: '1' } },
    { eventType: EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, eventTime: at(firedAt) },
    { eventType: EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED, eventTime: at(firedAt + options.taskWaitMs) },
    { eventType: EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED, eventTime: at(firedAt + options.taskWaitMs + 40) },
  ];
}

describe('bench cycle timings', () => {
  it('a cycle is as late as its task waited after the timer fired', () => {
    const [timing] = cycleTimings(run(0, 30, { continued: false, taskWaitMs: 25 }), 0, 2 * INTERVAL);
    assert.deepEqual(timing, { dueMs: 30 + INTERVAL, lagMs: 25, censored: false, fireDelayMs: 0, scheduleToStartMs: 25, runMs: 40 });
  });

  it("a continued run's first cycle is due an interval after the run began, so a slow start is lag", () => {
    const [timing] = cycleTimings(run(0, 12_000, { continued: true, taskWaitMs: 25 }), 0, 2 * INTERVAL);
    assert.equal(timing?.dueMs, INTERVAL);
    assert.equal(timing?.lagMs, 12_025);
    assert.equal(timing?.runStartMs, 12_000);
    assert.equal(timing?.fireDelayMs, 0, 'the timer itself fired on time');
    assert.equal(timing?.scheduleToStartMs, 25);
  });

  it('a cycle due in the window but not started by its end counts as late until the end', () => {
    const events = run(0, 30, { continued: false, taskWaitMs: 25 }).slice(0, 6);
    const [timing] = cycleTimings(events, 0, INTERVAL + 5_030);
    assert.deepEqual(timing, { dueMs: INTERVAL + 30, lagMs: 5_000, censored: true });
  });

  it("a sync's end is the server's record of its last recording, as an activity or a local activity's marker", () => {
    const marker = (type: string, ms: number): HistoryEvent => ({
      eventType: EventType.EVENT_TYPE_MARKER_RECORDED,
      eventTime: at(ms),
      markerRecordedEventAttributes: {
        markerName: 'core_local_activity',
        details: { data: { payloads: [{ data: Buffer.from(JSON.stringify({ seq: 1, activity_type: type })) }] } },
      },
    });
    const events: HistoryEvent[] = [
      // fromObject turns the ids into the protobuf's 64-bit numbers.
      temporal.api.history.v1.HistoryEvent.fromObject({
        eventId: 5,
        eventType: EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
        eventTime: { seconds: 1 },
        activityTaskScheduledEventAttributes: { activityType: { name: 'persistNewFiles' } },
      }),
      temporal.api.history.v1.HistoryEvent.fromObject({
        eventId: 7,
        eventType: EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED,
        eventTime: { seconds: 1, nanos: 200_000_000 },
        activityTaskCompletedEventAttributes: { scheduledEventId: 5 },
      }),
      marker('persistNewFiles', 1_500),
      marker('listFolder', 1_600),
    ];
    assert.equal(lastCompletionMs(events, 'persistNewFiles'), 1_500);
    assert.equal(lastCompletionMs(events.slice(0, 2), 'persistNewFiles'), 1_200);
    assert.equal(lastCompletionMs(events, 'recordMappingState'), undefined);
  });
});
