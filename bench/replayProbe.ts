/**
 * What one replay of a mapping's run costs the worker's workflow thread: a worker that caches
 * fewer runs than it has mappings replays a run's history at every cycle. Replays a recorded
 * history many times, workflow code on this thread (the SDK's debug mode), and prints the time
 * per replay and the calls into the workflow sandbox it took. Each call runs under the SDK's
 * isolate execution timeout, for which Node starts a watchdog thread; a second pass drops the
 * timeout here (never in the product) to show what those threads cost on this machine. It also
 * counts the promises workflow code created: the SDK's promise hook takes a stack trace of each
 * (for the stack-trace query), and a last pass stops that hook (again, never in the product) to
 * show what they cost. The default history is an idle run of four cycles, what a worker replays
 * at every wake-up of a mapping it no longer caches.
 * Investigation only: `npx tsx bench/replayProbe.ts [history.json] [replays]`.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { globalHandlers } from '@temporalio/worker/lib/workflow/vm-shared';
import { workflowBundleOptions } from '../src/workflowBundle';
import { installQuietRuntime, quietBundlerLogger } from '../test/support/quietRuntime';
import { machineLine } from './machine';

const DEFAULT_HISTORY = resolve(__dirname, '..', 'test', 'workflows', 'histories', 'idle-run.json');

let calls = 0;
let promises = 0;
let withoutTimeout = false;
// Workflow code runs in the SDK's own V8 context, whose Promise is not this one.
v8.promiseHooks.onInit((promise: Promise<unknown>) => {
  if (promise.constructor !== Promise) promises += 1;
});
const runInContext = vm.Script.prototype.runInContext;
vm.Script.prototype.runInContext = function (context: vm.Context, options?: vm.RunningScriptOptions) {
  calls += 1;
  return runInContext.call(this, context, withoutTimeout && options ? { ...options, timeout: undefined } : options);
};

async function main(): Promise<void> {
  // tsx turns Node's source maps on; the product's worker runs without them.
  process.setSourceMapsEnabled(false);
  // The SDK's debug mode runs workflow code on this thread, where the counting above sees it.
  process.env.TEMPORAL_DEBUG = '1';
  installQuietRuntime();
  const file = process.argv[2] ?? DEFAULT_HISTORY;
  const replays = Number(process.argv[3] ?? 300);
  const json = JSON.parse(readFileSync(file, 'utf8')) as { events: unknown[] };
  const workflowBundle = await bundleWorkflowCode({ ...workflowBundleOptions(), logger: quietBundlerLogger });
  console.log(machineLine());
  const cycles = json.events.filter((e) => (e as { eventType?: string }).eventType === 'EVENT_TYPE_TIMER_FIRED').length;
  console.log(`history: ${file} (${json.events.length} events, ${cycles} timers fired), ${replays} replays per pass`);
  for (const pass of ['as the SDK runs it', 'without the timeout', 'without the promise hook']) {
    withoutTimeout = pass === 'without the timeout';
    if (pass === 'without the promise hook') (globalHandlers as unknown as { stopPromiseHook(): void }).stopPromiseHook();
    const inputs = Array.from({ length: replays }, (_, i) => ({ workflowId: `replay-${i}`, history: historyFromJSON(json) }));
    calls = 0;
    promises = 0;
    const started = performance.now();
    for await (const result of Worker.runReplayHistories({ workflowBundle }, inputs)) {
      if (result.error) throw result.error;
    }
    const ms = (performance.now() - started) / replays;
    const perReplay = (n: number) => (n / replays).toFixed(0);
    console.log(`${pass}: ${ms.toFixed(2)} ms a replay, ${perReplay(calls)} calls into the sandbox, ${perReplay(promises)} workflow promises`);
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
