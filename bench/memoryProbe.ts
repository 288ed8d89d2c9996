/**
 * Where a cached mapping workflow's memory goes: N workflows started on a worker that runs them in
 * its main thread (debugMode), their activities answering an idle cycle from memory, then the JS
 * heap per cached workflow and a heap snapshot (--snapshot). With --cycles=K and a short --poll=MS,
 * it reports again after every workflow ran K cycles: whether a cached workflow grows as its
 * history does. Investigation only: `npx tsx bench/memoryProbe.ts [N] [--no-preload] [--snapshot]
 * [--cycles=K --poll=MS]` with TEMPORAL_CLI_PATH set.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import v8 from 'node:v8';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { workflowBundleOptions } from '../src/workflowBundle';
import { folderSyncWorkflow } from '../src/workflows';
import { SEARCH_ATTRIBUTES } from '../src/workflows/definitions';

async function main(): Promise<void> {
  const n = Number(process.argv.find((a) => /^\d+$/u.test(a)) ?? 1000);
  const preload = !process.argv.includes('--no-preload');
  const flag = (name: string, fallback: number) =>
    Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback);
  const rounds = flag('cycles', 1);
  const pollIntervalMs = flag('poll', 3_600_000);
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: process.env.TEMPORAL_CLI_PATH! },
      searchAttributes: [...SEARCH_ATTRIBUTES],
    },
  });
  const options = workflowBundleOptions();
  const bundle = await bundleWorkflowCode({
    workflowsPath: options.workflowsPath,
    ...(preload ? { preloadModules: options.preloadModules } : {}),
    logger: new DefaultLogger('WARN'),
  });
  let cycles = 0;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: 'memory-probe',
    workflowBundle: bundle,
    debugMode: true,
    maxCachedWorkflows: n + 10,
    activities: {
      validateToken: async () => ({ accountId: 'dbid:probe' }),
      listFolder: async () => {
        cycles += 1;
        return { cursor: 'cursor', hasMore: false, counts: { files: 0, folders: 0, deletedPaths: 0 } };
      },
    },
  });
  await worker.runUntil(async () => {
    const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
    await sleep(2_000);
    gc();
    const before = v8.getHeapStatistics().used_heap_size;
    // RSS beside the JS heap's committed size: what grows outside it is the SDK's native core and malloc.
    const rssBefore = process.memoryUsage().rss;
    const committedBefore = v8.getHeapStatistics().total_heap_size;
    if (process.argv.includes('--snapshot')) v8.writeHeapSnapshot('/tmp/probe-0.heapsnapshot');
    for (let i = 0; i < n; i++) {
      const mappingId = `m${i}`;
      await env.client.workflow.start(folderSyncWorkflow, {
        taskQueue: 'memory-probe',
        workflowId: `probe-${i}`,
        args: [{ mappingId, projectId: 'p', dropboxPath: `/p/${i}`, pollIntervalMs, newMapping: true }],
      });
    }
    for (const round of new Set([1, Math.ceil(rounds / 2), rounds])) {
      while (cycles < n * round) await sleep(200);
      await sleep(1_000);
      gc();
      const after = v8.getHeapStatistics().used_heap_size;
      const rss = process.memoryUsage().rss;
      const perWorkflow = (bytes: number) => `${(bytes / n / 1024).toFixed(1)} KiB per workflow`;
      const outsideHeap = rss - rssBefore - (v8.getHeapStatistics().total_heap_size - committedBefore);
      process.stdout.write(
        `${n} cached workflows after ${round} cycle(s) each (preload ${preload}): JS heap +${((after - before) / 2 ** 20).toFixed(1)} MiB, ` +
          `${perWorkflow(after - before)}; RSS ${(rss / 2 ** 20).toFixed(0)} MiB, outside the JS heap ${perWorkflow(outsideHeap)}\n`,
      );
      if (process.argv.includes('--snapshot'))
        process.stdout.write(`snapshot ${v8.writeHeapSnapshot(`/tmp/probe-${round}.heapsnapshot`)}\n`);
    }
  });
  await env.teardown();
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
