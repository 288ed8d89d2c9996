import { DefaultLogger, Runtime } from '@temporalio/worker';

let installed = false;

/**
 * Worker and bundler chatter (state changes, bundle sizes) buries test output; warnings and errors
 * still show. Call before the first Worker or NativeConnection of the test process.
 */
export function installQuietRuntime(): void {
  if (installed) return;
  installed = true;
  Runtime.install({ logger: new DefaultLogger('WARN') });
}

/** For `bundleWorkflowCode({ logger })`, which otherwise prints the bundle's size at info level. */
export const quietBundlerLogger = new DefaultLogger('WARN');
