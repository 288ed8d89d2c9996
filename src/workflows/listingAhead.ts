import { FailureTypes } from '../domain/failureTypes';
import type { ListingPageRef } from '../domain/types';
import { dropbox, dropboxPaging, records } from './activityProxies';
import {
  beginFullListingIfNeeded,
  checkKeptPage,
  CycleInterrupted,
  failureOf,
  hasNames,
  isFirstListing,
  keptPageRecording,
  type ListingRun,
} from './listing';

/** A page listed, kept and checked for names, waiting for its turn to be recorded. */
interface CheckedPage {
  cursor: string;
  hasMore: boolean;
  page?: ListingPageRef;
  rejectedFileIds: string[];
  /** It deletes nothing: recording it cannot undo what a page before it records. */
  additive: boolean;
}

/** Two pages recorded, one waiting, one being listed. */
const SLOTS = 4;

/**
 * Lists the folder as `listKeptPages` does, further ahead: while a page is recorded the next one
 * waits listed and checked and the one after is being listed, so a recording starts as soon as
 * the one before ends, not after the next listing and check. In a full listing (a first sync, a
 * relisting), where each page only adds files and the sweep at its end settles the rest, two
 * pages are recorded at once: the database queues the second insert behind the first instead of
 * waiting for a workflow round trip. The cursor still moves past a page only once it and every
 * page before it are recorded.
 */
export async function listPagesAhead(run: ListingRun): Promise<{ changed: boolean }> {
  const { s } = run;
  const { mappingId } = run.input;
  let changed = false;
  let listed = 0;
  let ahead: Promise<CheckedPage> | undefined;
  // Oldest first; each settles after the ones before it.
  const recordings: { done: Promise<void>; additive: boolean }[] = [];
  const recordedUpTo = async (inFlight: number) => {
    while (recordings.length > inFlight) await recordings.shift()!.done;
  };

  async function listAndCheck(listFrom: string | undefined): Promise<CheckedPage> {
    beginFullListingIfNeeded(s, listFrom);
    // The pages recorded and waiting hold the other slots.
    const keepInSlot = (listed % SLOTS) as ListingPageRef['slot'];
    // Only the first page is a local activity: a later one must not hold back the workflow task
    // that schedules the recording of the page before it.
    const lister = listed === 0 ? dropbox : dropboxPaging;
    listed += 1;
    const summary = await lister.listFolder({ mappingId, keepInSlot, ...(listFrom ? { cursor: listFrom } : {}) });
    s.counters.dropboxPages += 1;
    const { page, cursor, hasMore, counts } = summary;
    // Checked here too: an idle cycle's empty page then costs no async call, no promise.
    const rejectedFileIds = hasNames(summary) ? await checkKeptPage(run, summary) : undefined;
    if (rejectedFileIds) changed = true;
    return { cursor, hasMore, rejectedFileIds: rejectedFileIds ?? [], additive: counts.deletedPaths === 0, ...(page ? { page } : {}) };
  }

  const listAhead = (listFrom: string | undefined) => {
    ahead = listAndCheck(listFrom);
    // Handled from now on, so a failure while a page is recorded is not an unhandled rejection;
    // awaiting `ahead` still throws it.
    ahead.catch(() => undefined);
  };

  function record(current: CheckedPage): void {
    const { page, cursor } = current;
    const input = keptPageRecording(run, current);
    if (!page && !input.sweep) {
      const before = recordings.at(-1)?.done;
      if (!before) {
        s.cursor = cursor;
        return;
      }
      // Nothing to record, but the cursor still waits for the pages before it.
      const done = before.then(() => void (s.cursor = cursor));
      done.catch(() => undefined);
      recordings.push({ done, additive: true });
      return;
    }
    const persisted = records.persistNewFiles({ ...input, ...(isFirstListing(run) ? { firstListing: true } : {}) });
    const before = recordings.at(-1)?.done;
    const done = (async () => {
      const counts = await persisted;
      s.counters.filesAdded += counts.added;
      s.counters.filesUpdated += counts.updated;
      s.counters.filesDeleted += counts.deleted;
      changed ||= counts.added + counts.updated + counts.deleted > 0;
      await before;
      s.cursor = cursor;
    })();
    done.catch(() => undefined);
    recordings.push({ done, additive: current.additive });
  }

  try {
    listAhead(s.cursor);
    for (;;) {
      let current: CheckedPage;
      try {
        current = await ahead!;
      } catch (err) {
        ahead = undefined;
        await recordedUpTo(0);
        if (failureOf(err).type !== FailureTypes.cursorReset) throw err;
        // Dropbox forgot where we were: list everything again; the sweep at its end removes
        // records of files deleted while the cursor was lost.
        s.cursor = undefined;
        s.fullListing = false;
        listAhead(undefined);
        continue;
      }
      ahead = undefined;
      // A run about to continue as new lists no further: the next run lists from the cursor.
      if (current.hasMore && !run.shouldContinueAsNew()) listAhead(current.cursor);
      // The last page drops the kept pages and may sweep: every page before it must be recorded.
      const together = current.hasMore && s.fullListing && current.additive && recordings.every((r) => r.additive);
      await recordedUpTo(together ? 1 : 0);
      record(current);
      if (!current.hasMore) {
        if (recordings.length > 0) await recordedUpTo(0);
        s.fullListing = false;
        return { changed };
      }
      if (run.shouldContinueAsNew()) {
        await recordedUpTo(0);
        s.syncRequested = true;
        throw new CycleInterrupted();
      }
    }
  } finally {
    // A cycle cut short still settles the pages in flight; their own failures are the cut's.
    // An idle cycle has none, and skips the promises: the SDK takes a stack trace of each.
    if (recordings.length > 0 || ahead) await Promise.allSettled([...recordings.map((r) => r.done), ahead]);
  }
}
