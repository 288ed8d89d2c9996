/**
 * What one replay of a mapping's run costs the worker's workflow thread: a worker that caches
 * fewer runs than it has mappings replays a run's history at every cycle. Replays a recorded
 * history many times, workflow code on this thread (the SDK's debug mode), and prints the time
 * per replay and the calls into the workflow sandbox it took. Each call runs under the SDK's
 * isolate execution timeout, for which Node starts a watchdog thread; a second pass drops the
 * timeout here (never in the product) to show what those threads cost on this machine.
 * Investigation only: `npx tsx bench/replayProbe.ts [history.json] [replays]`.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import vm from 'node:vm';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { workflowBundleOptions } from '../src/workflowBundle';
import { installQuietRuntime, quietBundlerLogger } from '../test/support/quietRuntime';
import { machineLine } from './machine';

const DEFAULT_HISTORY = resolve(__dirname, '..', 'test', 'workflows', 'histories', 'bounded-run-first-run.json');

let calls = 0;
let withoutTimeout = false;
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
  console.log(`history: ${file} (${json.events.length} events), ${replays} replays per pass`);
  for (const pass of ['as the SDK runs it', 'without the timeout']) {
    withoutTimeout = pass === 'without the timeout';
    const inputs = Array.from({ length: replays }, (_, i) => ({ workflowId: `replay-${i}`, history: historyFromJSON(json) }));
    calls = 0;
    const started = performance.now();
    for await (const result of Worker.runReplayHistories({ workflowBundle }, inputs)) {
      if (result.error) throw result.error;
    }
    const ms = (performance.now() - started) / replays;
    console.log(`${pass}: ${ms.toFixed(2)} ms a replay, ${(calls / replays).toFixed(0)} calls into the sandbox`);
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
