/**
 * Build B of the versioning test: today's workflow behind a new first command, a short timer.
 * Build A's histories never recorded it, so replaying one of them on this code fails as
 * nondeterministic: only a run that started on B may run here.
 */
import { sleep } from '@temporalio/workflow';
import type { FolderSyncInput } from '../../../src/workflows/definitions';
import { folderSyncWorkflow as released, type FolderSyncResult } from '../../../src/workflows/folderSyncWorkflow';

export async function folderSyncWorkflow(input: FolderSyncInput): Promise<FolderSyncResult> {
  await sleep('1 ms');
  return released(input);
}
