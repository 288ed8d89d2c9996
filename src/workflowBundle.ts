import type { BundleOptions } from '@temporalio/worker';

/**
 * How every worker, the prebuilt bundle and the tests bundle the workflow code. The SDK module and
 * our workflow modules are loaded once into the worker's shared V8 context instead of once per
 * cached workflow: they hold no state of their own (a workflow's state lives in its activation),
 * and a worker caches thousands of mapping workflows, so each per-workflow copy counts.
 */
export function workflowBundleOptions(): Pick<BundleOptions, 'workflowsPath' | 'preloadModules'> {
  const workflowsPath = require.resolve('./workflows');
  return { workflowsPath, preloadModules: ['@temporalio/workflow', workflowsPath] };
}
