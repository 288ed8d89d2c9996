import { CancellationScope, isCancellation, workflowInfo } from '@temporalio/workflow';
import { contentsTaskQueue } from '../domain/taskQueues';
import { contentsOn } from './activityProxies';
import type { CarriedState } from './definitions';

export interface ContentCopies {
  /** Files were recorded: copy their bytes (now, or once the copy under way ends). */
  request(): void;
  /** Pause, unmap: the copy under way is cancelled; what it left stays pending. */
  cancel(): void;
  /**
   * True before continue-as-new: the copy under way ends after its current activity (which
   * starts no new files after its budget) and none follows it; what is left is the next run's.
   * False again (the run is not ending after all): copies go on.
   */
  finishing(ending: boolean): void;
  /** No copy is running or stopping: the run may continue as new. */
  idle(): boolean;
}

/**
 * The bytes of new and changed files are copied (`copyFileContents`, a regular activity any worker
 * may run) beside the cycles, not inside them: a listing never waits for downloads and a long copy
 * (a first sync's 10,000 files, a 1 GiB file) never holds up the next listing; the two write
 * different documents (a file's record, its rev's content record). A copy that ran out of its time
 * budget, or that files were recorded for while it ran, is followed by another at once; one that
 * failed, or waits for a token with the content scope, leaves `contentsPending` set for the next
 * cycle to ask again.
 */
export function contentCopies(mappingId: string, s: CarriedState): ContentCopies {
  const contents = contentsOn(contentsTaskQueue(workflowInfo().taskQueue));
  let scope: CancellationScope | undefined;
  let running: Promise<void> | undefined;
  // A cancelled copy until it has stopped writing: the next one starts after it, never beside it.
  let stopping: Promise<void> | undefined;
  let finishing = false;
  // Copies not yet settled, a cancelled one included.
  let unsettled = 0;
  const copyWhilePending = async () => {
    while (s.contentsPending && !finishing) {
      s.contentsPending = false;
      const recordedSince = s.contentsRecordedSince;
      s.contentsRecordedSince = undefined;
      let result;
      try {
        result = await contents.copyFileContents({ mappingId, ...(recordedSince === undefined ? {} : { recordedSince }) });
      } catch (err) {
        s.contentsPending = true;
        if (recordedSince !== undefined) contentsRecordedSince(s, recordedSince);
        if (isCancellation(err)) throw err;
        return;
      }
      // Requested again while it ran (files recorded meanwhile): the loop copies them now.
      if (s.contentsPending) continue;
      if (result.missingScope) {
        s.contentsPending = true;
        return;
      }
      if (result.pending > 0) s.contentsPending = true;
    }
  };
  return {
    request() {
      s.contentsPending = true;
      if (scope) return;
      const current = new CancellationScope();
      scope = current;
      const previous = stopping;
      unsettled += 1;
      running = current
        .run(async () => {
          if (previous) await previous;
          await copyWhilePending();
        })
        .catch(() => undefined)
        .finally(() => {
          unsettled -= 1;
          if (scope === current) {
            scope = undefined;
            running = undefined;
          }
        });
    },
    cancel() {
      if (!scope) return;
      s.contentsPending = true;
      scope.cancel();
      stopping = running;
      scope = undefined;
      running = undefined;
    },
    finishing(ending) {
      finishing = ending;
    },
    idle() {
      return unsettled === 0;
    },
  };
}

/** The files of a page listed at `listedAt` (epoch ms) were recorded: the next copy follows them. */
export function contentsRecordedSince(s: CarriedState, listedAt: number): void {
  s.contentsRecordedSince = Math.min(s.contentsRecordedSince ?? listedAt, listedAt);
}
