import { FailureTypes } from '../domain/failureTypes';
import type { ListingPageRef } from '../domain/types';
import { dropbox, dropboxPaging, localRecords, records } from './activityProxies';
import {
  beginFullListingIfNeeded,
  checkKeptPage,
  CycleInterrupted,
  failureOf,
  hasNames,
  isFirstListing,
  keptPageRecording,
  sweepsAfter,
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
 * Times a listing on one worker starts again from its cursor in one cycle, when pages it held are
 * gone (its workflow moved to another worker mid-listing); after that the cycle ends with the error.
 */
const MAX_RELISTINGS = 2;

/**
 * How a listing's pages travel. Spread over workers (runs recorded before the listing moved onto
 * one worker): the later pages are listed, and every page checked and recorded, by activities any
 * worker may run, so each page is kept in MongoDB. On one worker: every step is a local activity
 * of the workflow task, so the pages stay in that worker's memory and no step waits for the
 * server; the task heartbeats while the listing runs, and signals and queries wait for its
 * heartbeat (at most 8 s with the default 10 s task timeout). A page lost with its worker is
 * listed again from the saved cursor.
 */
export type ListingPlacement = 'spread' | 'onWorker';

/**
 * Lists the folder as `listKeptPages` does, further ahead: while a page is recorded the next one
 * waits listed and checked and the one after is being listed, so a recording starts as soon as
 * the one before ends, not after the next listing and check. In a full listing (a first sync, a
 * relisting), where each page only adds files and the sweep at its end settles the rest, two
 * pages are recorded at once: the database queues the second insert behind the first instead of
 * waiting for a workflow round trip. The cursor still moves past a page only once it and every
 * page before it are recorded.
 */
export async function listPagesAhead(run: ListingRun, placement: ListingPlacement = 'spread'): Promise<{ changed: boolean }> {
  const progress = { changed: false };
  for (let relisted = 0; ; relisted += 1) {
    try {
      await listOnce(run, placement, progress);
      return progress;
    } catch (err) {
      const lost = placement === 'onWorker' && failureOf(err).type === FailureTypes.listingPageMissing;
      if (!lost || relisted >= MAX_RELISTINGS) throw err;
    }
  }
}

async function listOnce(run: ListingRun, placement: ListingPlacement, progress: { changed: boolean }): Promise<void> {
  const { s } = run;
  const { mappingId } = run.input;
  const onWorker = placement === 'onWorker';
  // Where the pages are checked and recorded: beside the listing, or by any worker.
  const steps = onWorker ? localRecords : records;
  let listed = 0;
  // A page past the worker's budget is kept in MongoDB: the last page then drops it from there.
  let spilled = false;
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
    // Spread, only the first page is a local activity: a later one must not hold back the
    // workflow task that schedules the recording of the page before it.
    const lister = onWorker || listed === 0 ? dropbox : dropboxPaging;
    listed += 1;
    const summary = await lister.listFolder({
      mappingId,
      keepInSlot,
      ...(onWorker ? { holdOnWorker: true } : {}),
      ...(listFrom ? { cursor: listFrom } : {}),
    });
    s.counters.dropboxPages += 1;
    const { page, cursor, hasMore, counts } = summary;
    if (page && !page.onWorker) spilled = true;
    // Checked here too: an idle cycle's empty page then costs no async call, no promise.
    const rejectedFileIds = hasNames(summary) ? await checkKeptPage(run, summary, steps) : undefined;
    if (rejectedFileIds) progress.changed = true;
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
    const persisted = steps.persistNewFiles({
      ...input,
      ...(isFirstListing(run) ? { firstListing: true } : {}),
      ...(onWorker && !spilled ? { heldOnly: true } : {}),
    });
    const before = recordings.at(-1)?.done;
    const done = (async () => {
      const counts = await persisted;
      s.counters.filesAdded += counts.added;
      s.counters.filesUpdated += counts.updated;
      s.counters.filesDeleted += counts.deleted;
      progress.changed ||= counts.added + counts.updated + counts.deleted > 0;
      await before;
      s.cursor = cursor;
    })();
    done.catch(() => undefined);
    recordings.push({ done, additive: current.additive });
  }

  /**
   * The last page drops the kept pages and may sweep, so every page before it must be recorded
   * first; on one worker, a last page that does neither (a new mapping's first listing, every page
   * held) is recorded beside the one before it, like the others.
   */
  const lastPageMayOverlap = () => onWorker && !spilled && !sweepsAfter(run, false);

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
      const listNext = () => {
        if (current.hasMore && !run.shouldContinueAsNew()) listAhead(current.cursor);
      };
      // Spread, the next page is listed at once, to hide the server round trips. On one worker a
      // page is listed and checked in a fraction of a recording, so the listing waits for its turn
      // and one page is listed during each recording rather than three during the first (the
      // listing's CPU then slows every insert a little instead of the first one a lot).
      if (!onWorker) listNext();
      const together =
        (current.hasMore || lastPageMayOverlap()) &&
        s.fullListing &&
        current.additive &&
        recordings.every((r) => r.additive);
      await recordedUpTo(together ? 1 : 0);
      record(current);
      if (onWorker) listNext();
      if (!current.hasMore) {
        if (recordings.length > 0) await recordedUpTo(0);
        s.fullListing = false;
        return;
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
