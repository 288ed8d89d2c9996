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
import { workflowBundleOptions } from '../../src/workflowBundle';
import { KEPT_LISTING_PAGES_PATCH } from '../../src/workflows/folderSyncWorkflow';
import { installQuietRuntime, quietBundlerLogger } from '../support/quietRuntime';

const HISTORIES = join(__dirname, 'histories');

installQuietRuntime();

interface RecordedHistory {
  name: string;
  json: { events: { eventType: string; workflowExecutionSignaledEventAttributes?: { signalName: string } }[] };
}

/** Today's recordings, and under inline-pages/ those from before pages were kept out of the history. */
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

  it('holds runs recorded before and after listed pages were kept out of the history', async () => {
    const histories = await loadHistories();
    const patched = (h: RecordedHistory) => {
      let found = false;
      JSON.stringify(h.json, (key, value: unknown) => {
        if (key === 'data' && typeof value === 'string')
          found ||= Buffer.from(value, 'base64').toString('utf8').includes(KEPT_LISTING_PAGES_PATCH);
        return value;
      });
      return found;
    };
    const after = histories.filter(patched).map((h) => h.name);
    const before = histories.filter((h) => !patched(h)).map((h) => h.name);
    assert.ok(after.length >= 5, `runs with the patch: ${after.join(', ')}`);
    assert.ok(before.length >= 5 && before.every((n) => n.startsWith('inline-pages')), `runs without: ${before.join(', ')}`);
  });

  it('replays every recorded history without nondeterminism', async () => {
    const histories = await loadHistories();
    // Bundled as production bundles it, preloaded modules included.
    const workflowBundle = await bundleWorkflowCode({ ...workflowBundleOptions(), logger: quietBundlerLogger });
    const inputs = histories.map((h) => ({ workflowId: h.name, history: historyFromJSON(h.json) }));
    const replayed: string[] = [];
    for await (const result of Worker.runReplayHistories({ workflowBundle }, inputs)) {
      assert.equal(result.error, undefined, `${result.workflowId}: ${String(result.error)}`);
      replayed.push(result.workflowId);
    }
    assert.deepEqual(replayed.sort(), histories.map((h) => h.name).sort());
  });
});
