/**
 * Replays histories recorded from real runs on the dev server (`npm run record-histories`)
 * against today's workflow code. Runs in flight are pinned to the build that started them
 * (Worker Deployment Versioning), so these guard the code of one build: a change that fails here
 * is rolled out as a new build, and the histories are recorded again (README, rollouts).
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { cycleReportSinks } from '../../src/cycleReportSinks';
import { silentLogger } from '../../src/log';
import { workflowBundleOptions } from '../../src/workflowBundle';
import { installQuietRuntime, quietBundlerLogger } from '../support/quietRuntime';

const HISTORIES = join(__dirname, 'histories');

installQuietRuntime();

interface RecordedEvent {
  eventType: string;
  workflowExecutionSignaledEventAttributes?: { signalName: string };
  activityTaskScheduledEventAttributes?: { activityType?: { name?: string } };
  workflowTaskCompletedEventAttributes?: { versioningBehavior?: string };
}

interface RecordedHistory {
  name: string;
  json: { events: RecordedEvent[] };
}

/** One generation: the recordings of today's code, side by side. */
async function loadHistories(): Promise<RecordedHistory[]> {
  const files = (await readdir(HISTORIES)).filter((f) => f.endsWith('.json')).sort();
  return Promise.all(
    files.map(async (file) => ({ name: file, json: JSON.parse(await readFile(join(HISTORIES, file), 'utf8')) })),
  );
}

describe('replaying recorded folderSyncWorkflow histories', () => {
  it('covers every signal, a fired timer, a continue-as-new and a completion', async () => {
    const histories = await loadHistories();
    assert.ok(histories.length >= 5, `expected the recorded scenarios, found ${histories.length}`);
    const events = histories.flatMap((h) => h.json.events);
    const signals = new Set(events.map((e) => e.workflowExecutionSignaledEventAttributes?.signalName).filter(Boolean));
    assert.deepEqual([...signals].sort(), ['credentialsUpdated', 'pause', 'resume', 'syncNow', 'unmap']);
    const types = new Set(events.map((e) => e.eventType));
    for (const type of ['EVENT_TYPE_TIMER_FIRED', 'EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW', 'EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED']) {
      assert.ok(types.has(type), `no ${type} in the recorded histories`);
    }
  });

  it('holds one generation, with every step of a cycle an activity named in the history', async () => {
    const histories = await loadHistories();
    const events = (h: RecordedHistory) => h.json.events as RecordedEvent[];
    const byName = (name: string) => histories.find((h) => h.name === `${name}.json`)!;
    for (const h of histories) {
      assert.ok(!events(h).some((e) => e.eventType === 'EVENT_TYPE_MARKER_RECORDED'), `${h.name}: a marker (patch or local activity)`);
    }
    const scheduled = new Set(
      histories.flatMap((h) => events(h).map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name).filter(Boolean)),
    );
    for (const name of ['validateToken', 'listFolder', 'rejectSpecialCharacterPaths', 'persistNewFiles']) {
      assert.ok(scheduled.has(name), `no ${name} activity in the recorded histories`);
    }
    // An idle cycle: from one timer's firing to the next timer, two activities and 17 events.
    const idle = events(byName('idle-run')).map((e) => e.eventType);
    const fired = idle.indexOf('EVENT_TYPE_TIMER_FIRED');
    const next = idle.indexOf('EVENT_TYPE_TIMER_STARTED', fired);
    const cycle = idle.slice(fired, next + 1);
    assert.equal(cycle.length, 17, cycle.join(', '));
    assert.equal(cycle.filter((t) => t === 'EVENT_TYPE_ACTIVITY_TASK_SCHEDULED').length, 2);
    // Runs that ended after their cycles, a staggered one early, and one mid-listing.
    for (const name of ['bounded-run-first-run', 'staggered-run-first-run', 'continue-as-new-first-run', 'idle-run']) {
      assert.equal(events(byName(name)).at(-1)?.eventType, 'EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW', name);
    }
    // Each run was recorded by a versioned worker, pinned to its build.
    for (const h of histories) {
      const completed = events(h).find((e) => e.workflowTaskCompletedEventAttributes)?.workflowTaskCompletedEventAttributes;
      assert.equal(completed?.versioningBehavior, 'VERSIONING_BEHAVIOR_PINNED', h.name);
    }
  });

  it('replays every recorded history without nondeterminism', async () => {
    const histories = await loadHistories();
    // Bundled as production bundles it, preloaded modules included.
    const workflowBundle = await bundleWorkflowCode({ ...workflowBundleOptions(), logger: quietBundlerLogger });
    const inputs = histories.map((h) => ({ workflowId: h.name, history: historyFromJSON(h.json) }));
    const replayed: string[] = [];
    for await (const result of Worker.runReplayHistories({ workflowBundle, sinks: cycleReportSinks(silentLogger) }, inputs)) {
      assert.equal(result.error, undefined, `${result.workflowId}: ${String(result.error)}`);
      replayed.push(result.workflowId);
    }
    assert.deepEqual(replayed.sort(), histories.map((h) => h.name).sort());
  });
});
