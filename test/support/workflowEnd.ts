import { WorkflowClient, type WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { folderSyncWorkflow } from '../../src/workflows';
import { unmapSignal } from '../../src/workflows/definitions';

type FolderSyncHandle = WorkflowHandle<typeof folderSyncWorkflow>;
type FolderSyncResult = Awaited<ReturnType<typeof folderSyncWorkflow>>;

/**
 * The workflow's result, awaited without letting simulated time run. The test environment's
 * `result()` unlocks time skipping; if the test server then fires the poll timer while the
 * unmap's workflow task is cancelling it, the server refuses the cancellation ("invalid history
 * builder state for action") and never schedules another task, so the run and the test hang
 * (temporalio/sdk-java#3088). An unmapped workflow needs no timer to finish.
 */
export function resultWithoutTimeSkipping(env: TestWorkflowEnvironment, handle: FolderSyncHandle): Promise<FolderSyncResult> {
  const client = new WorkflowClient({ connection: env.connection, namespace: env.namespace });
  return client.getHandle<typeof folderSyncWorkflow>(handle.workflowId).result();
}

/** Sends unmap and waits for the workflow to end, as `resultWithoutTimeSkipping` does. */
export async function unmapAndWait(env: TestWorkflowEnvironment, handle: FolderSyncHandle): Promise<FolderSyncResult> {
  await handle.signal(unmapSignal);
  return resultWithoutTimeSkipping(env, handle);
}
