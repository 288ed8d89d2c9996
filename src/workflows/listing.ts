import { ActivityFailure, ApplicationFailure } from '@temporalio/workflow';
import { FailureTypes } from '../domain/failureTypes';
import type { ListedPageSummary, ListingPageRef } from '../domain/types';
import { dropbox, records } from './activityProxies';
import type { PersistInput } from '../activities/persistNewFiles';
import type { CarriedState, FolderSyncInput } from './definitions';
import { contentsRecordedSince } from './contents';

/** Ends a cycle early without failing it: a pause, an unmap, or time to continue as new. */
export class CycleInterrupted extends Error {}

export interface ListingRun {
  input: FolderSyncInput;
  /** The workflow's carried state: cursor, listing generation and counters move here. */
  s: CarriedState;
  shouldContinueAsNew(): boolean;
}

export function failureOf(err: unknown): { type: string | undefined; message: string; details?: unknown[] } {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure) {
    return { type: cause.type ?? undefined, message: cause.message, details: cause.details ?? [] };
  }
  return { type: undefined, message: err instanceof Error ? err.message : String(err) };
}

/** A page listed, kept and checked for names, waiting for its turn to be recorded. */
interface CheckedPage {
  cursor: string;
  hasMore: boolean;
  page?: ListingPageRef;
  rejectedFileIds: string[];
  skippedFolders: number;
  /** It deletes nothing: recording it cannot undo what a page before it records. */
  additive: boolean;
}

/** Two pages recorded, one waiting, one being listed. */
const SLOTS = 4;

function beginFullListingIfNeeded(s: CarriedState, listFrom: string | undefined): void {
  if (listFrom === undefined && !s.fullListing) {
    s.fullListing = true;
    s.listingGeneration += 1;
  }
}

/**
 * The worker's listing policy (refused characters, largest file copied), from the cycle's token
 * check. Under another policy than the one the mapping was listed with, the folder is listed again
 * from the start: its sweep removes the rejections the new policy no longer makes and reopens the
 * files once too large.
 */
export function adoptListingPolicy(s: CarriedState, policy: string): void {
  if (s.listingPolicy !== undefined && s.listingPolicy !== policy) {
    s.cursor = undefined;
    s.fullListing = false;
  }
  s.listingPolicy = policy;
}

/** A new mapping's first listing: nothing was recorded for it before. */
function isFirstListing({ s, input }: ListingRun): boolean {
  return s.fullListing && input.newMapping === true && s.listingGeneration === 1;
}

/** The last page of a full listing sweeps, except the first listing of a new mapping. */
function sweepsAfter(run: ListingRun, hasMore: boolean): boolean {
  return run.s.fullListing && !hasMore && !isFirstListing(run);
}

/** What `persistNewFiles` needs to record a kept page (or, without one, to sweep). */
function keptPageRecording(run: ListingRun, listed: CheckedPage): PersistInput {
  const { s, input } = run;
  const { page, hasMore, rejectedFileIds } = listed;
  return {
    mappingId: input.mappingId,
    projectId: input.projectId,
    ...(page ? { page } : {}),
    endsListing: !hasMore,
    ...(rejectedFileIds.length > 0 ? { rejectedFileIds } : {}),
    listingGeneration: s.listingGeneration,
    sweep: sweepsAfter(run, hasMore),
    fullListing: s.fullListing,
    ...(isFirstListing(run) ? { firstListing: true } : {}),
  };
}

/**
 * Lists the folder page by page from the saved cursor. Every step is an activity any worker may
 * run: `listFolder` keeps each page in MongoDB (`listing_pages`) and the history carries only its
 * summary, so a listing survives the loss of any worker, of the Temporal server or of the
 * database, and the workflow answers queries and signals between steps.
 *
 * While a page is recorded the next one waits listed and checked and the one after is being
 * listed, so a recording starts as soon as the one before ends. In a full listing (a first sync,
 * a relisting), where each page only adds files and the sweep at its end settles the rest, two
 * pages are recorded at once: the database queues the second insert behind the first instead of
 * waiting for a workflow round trip. The cursor moves past a page only once it and every page
 * before it are recorded, so an interrupted listing resumes from the last recorded page.
 */
export async function listFolderPages(run: ListingRun): Promise<{ changed: boolean }> {
  const { s } = run;
  const { mappingId, projectId } = run.input;
  let changed = false;
  let ahead: Promise<CheckedPage> | undefined;
  // Oldest first; each settles after the ones before it.
  const recordings: { done: Promise<void>; additive: boolean }[] = [];
  const recordedUpTo = async (inFlight: number) => {
    while (recordings.length > inFlight) await recordings.shift()!.done;
  };

  async function listAndCheck(listFrom: string | undefined): Promise<CheckedPage> {
    beginFullListingIfNeeded(s, listFrom);
    // The pages recorded and waiting hold the other slots. Slots go on from the last cycle's: a
    // listing call of a cancelled cycle may still land, and it lands in the slot it was given,
    // not in the one the next cycle's first page is kept in.
    const keepInSlot = ((s.nextSlot ?? 0) % SLOTS) as ListingPageRef['slot'];
    s.nextSlot = (keepInSlot + 1) % SLOTS;
    const summary = await dropbox.listFolder({ mappingId, keepInSlot, ...(listFrom ? { cursor: listFrom } : {}) });
    // The folder is there: should it go, its records are swept again.
    delete s.sweptAsGone;
    s.counters.dropboxPages += 1;
    const { page, cursor, hasMore, counts } = summary;
    const { rejectedFileIds, skippedFolders } = hasNames(summary)
      ? await rejectionsOf(summary.page)
      : { rejectedFileIds: [], skippedFolders: 0 };
    return { cursor, hasMore, rejectedFileIds, skippedFolders, additive: counts.deletedPaths === 0, ...(page ? { page } : {}) };
  }

  /**
   * Records the page's rejections and skipped subfolders: the ids of the files not to record. They
   * count once the page is recorded: a page listed ahead of a cut is listed and counted again.
   */
  async function rejectionsOf(page: ListingPageRef): Promise<{ rejectedFileIds: string[]; skippedFolders: number }> {
    const rejection = await records.rejectSpecialCharacterPaths({
      mappingId,
      projectId,
      page,
      listingGeneration: s.listingGeneration,
      ...(s.fullListing ? { fullListing: true } : {}),
      ...(isFirstListing(run) ? { firstListing: true } : {}),
    });
    changed = true;
    return rejection;
  }

  /**
   * The mapped folder is gone (deleted, moved or renamed), and with it, as Dropbox's deleted
   * entry for a folder means, every file in it: a listing with nothing in it sweeps the records.
   * The next cycle lists from the start, so the folder's return, or another at its path, is
   * listed whole.
   */
  async function folderGone(): Promise<void> {
    // The carried state changes once the sweep is recorded: one cut short (a pause) is made again.
    const listingGeneration = s.listingGeneration + 1;
    const counts = await records.persistNewFiles({
      mappingId,
      projectId,
      endsListing: true,
      listingGeneration,
      sweep: true,
      fullListing: true,
    });
    s.listingGeneration = listingGeneration;
    s.counters.filesDeleted += counts.deleted;
    s.cursor = undefined;
    s.fullListing = false;
    s.sweptAsGone = true;
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
    const before = recordings.at(-1)?.done;
    if (!page && !input.sweep) {
      // Nothing to record (an idle cycle's empty page), but the cursor waits for the pages before.
      if (!before) {
        s.cursor = cursor;
        return;
      }
      const done = before.then(() => void (s.cursor = cursor));
      done.catch(() => undefined);
      recordings.push({ done, additive: true });
      return;
    }
    const persisted = records.persistNewFiles(input);
    const done = (async () => {
      let counts;
      try {
        counts = await persisted;
      } finally {
        // Asked for once a page's recording ended, whatever its counts, and also when it failed
        // or was cancelled: an attempt may have written records before it did (and a later
        // listing of the same files writes nothing). Not before it ended, or a copy under way
        // could take the page's time before its records are there. A copy with nothing to do
        // costs a query or two.
        if (page) {
          s.contentsPending = true;
          contentsRecordedSince(s, page.listedAt);
        }
      }
      s.counters.filesAdded += counts.added;
      s.counters.filesUpdated += counts.updated;
      s.counters.filesDeleted += counts.deleted;
      changed ||= counts.added + counts.updated + counts.deleted + (counts.reopened ?? 0) > 0;
      await before;
      // Counted with the cursor's move: a page recorded beside an earlier one that failed is
      // listed again, and counts then.
      s.counters.rejections += current.rejectedFileIds.length;
      s.counters.skippedFolders += current.skippedFolders;
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
        if (!s.sweptAsGone && folderIsGone(err)) await folderGone();
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
      // The last page drops the kept pages and may sweep: every page before it is recorded first.
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

/**
 * The mapped folder is no longer there: deleted, moved or renamed (`not_found`), or a file now
 * (`not_folder`). Not a path Dropbox refuses for another reason (restricted, malformed).
 */
function folderIsGone(err: unknown): boolean {
  const { type, details } = failureOf(err);
  const problem = (details?.[0] as { problem?: string } | undefined)?.problem;
  return type === FailureTypes.folderMissing && (problem === 'not_found' || problem === 'not_folder');
}

/** A kept page with names to check; one holding only deletions (or nothing) has none. */
function hasNames(summary: ListedPageSummary): summary is ListedPageSummary & { page: ListingPageRef } {
  return summary.page !== undefined && summary.counts.files + summary.counts.folders > 0;
}
