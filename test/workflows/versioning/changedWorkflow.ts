/**
 * Build B of the versioning test: today's workflow behind a new first command, a short timer.
 * Build A's histories never recorded it, so replaying one of them on this code fails as
 * nondeterministic: only a run that started on B may run here.
 */
import { sleep } from '@temporalio/workflow';
import type { FolderSyncInput } from '../../../src/workflows/definitions';
import { folderSyncWorkflow as released, type FolderSyncResult } from '../../../src/workflows/folderSyncWorkflow';

export async function folderSyncWorkflow(input: FolderSyncInput): Promise<FolderSyncResult> {
  // Started, not awaited: today's workflow registers its handlers in the same activation, so a
  // status query never meets a run of B without them (awaiting the timer first left a window).
  void sleep('1 ms').catch(() => undefined);
  return released(input);
}
