/**
 * Replays histories recorded from real runs on the dev server (`npm run record-histories`)
 * against today's workflow code. A change that would make running executions nondeterministic
 * fails here; such a change needs `patched()` and freshly recorded histories beside the old ones.
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
import {
  BOUNDED_RUN_PATCH,
  KEPT_LISTING_PAGES_PATCH,
  LIST_AHEAD_PATCH,
  LISTING_ON_WORKER_PATCH,
  STAGGERED_RUNS_PATCH,
} from '../../src/workflows/folderSyncWorkflow';
import { installQuietRuntime, quietBundlerLogger } from '../support/quietRuntime';

const HISTORIES = join(__dirname, 'histories');

installQuietRuntime();

interface RecordedHistory {
  name: string;
  json: { events: { eventType: string; workflowExecutionSignaledEventAttributes?: { signalName: string } }[] };
}

/**
 * Today's recordings; under inline-pages/ those from before pages were kept out of the history,
 * under kept-pages/ those from before the listing went two pages ahead, under pages-ahead/ those
 * from before a listing ran on one worker.
 */
async function loadHistories(): Promise<RecordedHistory[]> {
  const files = (await readdir(HISTORIES, { recursive: true })).filter((f) => f.endsWith('.json')).sort();
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
    for (const type of ['EVENT_TYPE_TIMER_FIRED', 'EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW', 'EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED', 'EVENT_TYPE_MARKER_RECORDED']) {
      assert.ok(types.has(type), `no ${type} in the recorded histories`);
    }
  });

  it('holds runs recorded before and after each change to the workflow\'s commands', async () => {
    const histories = await loadHistories();
    const marks = (patch: string) => (h: RecordedHistory) => {
      let found = false;
      JSON.stringify(h.json, (key, value: unknown) => {
        if (key === 'data' && typeof value === 'string')
          found ||= Buffer.from(value, 'base64').toString('utf8').includes(patch);
        return value;
      });
      return found;
    };
    const generation = (h: RecordedHistory) => (h.name.includes('/') ? h.name.split('/')[0] : 'current');
    const kept = histories.filter(marks(KEPT_LISTING_PAGES_PATCH));
    const ahead = histories.filter(marks(LIST_AHEAD_PATCH));
    const onWorker = histories.filter(marks(LISTING_ON_WORKER_PATCH));
    // inline-pages/: pages passed through the history; kept-pages/: kept, listed one page ahead;
    // pages-ahead/: two ahead, by activities any worker may run; current: on one worker.
    assert.ok(histories.filter((h) => !kept.includes(h)).every((h) => generation(h) === 'inline-pages'));
    assert.equal(histories.filter((h) => generation(h) === 'inline-pages').length, 5);
    assert.ok(kept.filter((h) => generation(h) === 'kept-pages').length >= 5, 'runs with kept pages, one ahead');
    assert.ok(ahead.every((h) => generation(h) === 'pages-ahead'), 'the two-ahead spread listing only in pages-ahead/');
    assert.ok(ahead.length >= 4, `runs listing two ahead: ${ahead.map((h) => h.name).join(', ')}`);
    assert.ok(onWorker.every((h) => generation(h) === 'current'), 'the listing on one worker only in current runs');
    // Every current run that ran a cycle (the last run of continue-as-new only waited for its unmap).
    const current = histories.filter((h) => generation(h) === 'current');
    assert.deepEqual(
      current.filter((h) => !onWorker.includes(h)).map((h) => h.name),
      ['continue-as-new-last-run.json'],
      'every other current run lists on one worker',
    );
    // Runs that ended after their cycles (a first run, and a continued one with nothing to do);
    // the runs without the marker replay as unbounded runs.
    const bounded = histories.filter(marks(BOUNDED_RUN_PATCH));
    assert.deepEqual(bounded.map((h) => h.name), [
      'bounded-run-first-run.json',
      'idle-run.json',
      'pages-ahead/bounded-run-first-run.json',
      'pages-ahead/idle-run.json',
    ]);
    for (const run of bounded) assert.equal(run.json.events.at(-1)?.eventType, 'EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW');
    // A run that ended early by its mapping's stagger; the others were recorded before it or not staggered.
    const staggered = histories.filter(marks(STAGGERED_RUNS_PATCH));
    assert.deepEqual(staggered.map((h) => h.name), ['pages-ahead/staggered-run-first-run.json', 'staggered-run-first-run.json']);
    for (const run of staggered) assert.equal(run.json.events.at(-1)?.eventType, 'EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW');
    // A listing on one worker that continued as new mid-listing, between heartbeats of its task.
    const midListing = histories.find((h) => h.name === 'continue-as-new-first-run.json')!;
    const types = midListing.json.events.map((e) => e.eventType);
    assert.ok(types.filter((t) => t === 'EVENT_TYPE_WORKFLOW_TASK_COMPLETED').length >= 4, 'the listing\'s task heartbeated');
    assert.ok(!types.includes('EVENT_TYPE_TIMER_STARTED'), 'and the run ended before its first cycle did');
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
