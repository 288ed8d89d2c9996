/**
 * Prebuilds the workflow bundle that production workers load (`npm run build`), so a worker starts
 * without running webpack and every worker runs byte-identical workflow code.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { workflowBundleOptions } from '../src/workflowBundle';

async function main(): Promise<void> {
  const { code } = await bundleWorkflowCode(workflowBundleOptions());
  // src/worker.ts looks for it one level above its own folder: dist/workflow-bundle.js.
  const target = path.resolve(__dirname, '../workflow-bundle.js');
  await writeFile(target, code);
  process.stdout.write(`workflow bundle written to ${target} (${Math.round(code.length / 1024)} KiB)\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bundling failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
