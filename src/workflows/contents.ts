import { CancellationScope, isCancellation } from '@temporalio/workflow';
import { contents } from './activityProxies';
import type { CarriedState } from './definitions';

export interface ContentCopies {
  /** Files were recorded: copy their bytes (now, or once the copy under way ends). */
  request(): void;
  /** Pause, unmap: the copy under way is cancelled; what it left stays pending. */
  cancel(): void;
  /**
   * Before a listing: the copy under way is cancelled and awaited, so that it and the listing never
   * write the same file records at once (FerretDB applies an update as a read, then a whole-document
   * write, and a copy's write could undo a listing's). The listing requests the copy again after.
   */
  hold(): Promise<void>;
  /** Before continue-as-new: lets the copy under way end (it starts no new files after its budget), starts none after it. */
  finish(): Promise<void>;
}

/**
 * The bytes of new and changed files are copied (`copyFileContents`, a regular activity any worker
 * may run) beside the cycles, not inside them: a listing never waits for downloads and a long copy
 * (a first sync's 10,000 files, a 1 GiB file) never holds up the next listing. A copy that ran out
 * of its time budget is followed by another at once; one that failed, or that waits for a token
 * with the content scope, leaves `contentsPending` set for the next cycle to ask again.
 */
export function contentCopies(mappingId: string, s: CarriedState): ContentCopies {
  let scope: CancellationScope | undefined;
  let running: Promise<void> | undefined;
  let finishing = false;
  const copyWhilePending = async () => {
    while (s.contentsPending && !finishing) {
      s.contentsPending = false;
      let result;
      try {
        result = await contents.copyFileContents({ mappingId });
      } catch (err) {
        s.contentsPending = true;
        if (isCancellation(err)) throw err;
        return;
      }
      if (result.missingScope) s.contentsPending = true;
      if (result.missingScope || result.pending === 0) return;
      s.contentsPending = true;
    }
  };
  return {
    request() {
      s.contentsPending = true;
      if (scope) return;
      const current = new CancellationScope();
      scope = current;
      running = current
        .run(copyWhilePending)
        .catch(() => undefined)
        .finally(() => {
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
      scope = undefined;
      running = undefined;
    },
    async hold() {
      const held = running;
      this.cancel();
      await held;
    },
    async finish() {
      finishing = true;
      await running;
    },
  };
}
