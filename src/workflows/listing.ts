import { ActivityFailure, ApplicationFailure } from '@temporalio/workflow';
import { FailureTypes } from '../domain/failureTypes';
import type { ListedPage, ListedPageSummary, ListingPageRef } from '../domain/types';
import { dropbox, dropboxPaging, records } from './activityProxies';
import type { PersistInput } from '../activities/persistNewFiles';
import type { CarriedState, FolderSyncInput } from './definitions';

/** Ends a cycle early without failing it: a pause, an unmap, or time to continue as new. */
export class CycleInterrupted extends Error {}

export interface ListingRun {
  input: FolderSyncInput;
  /** The workflow's carried state: cursor, listing generation and counters move here. */
  s: CarriedState;
  shouldContinueAsNew(): boolean;
}

export function failureOf(err: unknown): { type: string | undefined; message: string } {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure) return { type: cause.type ?? undefined, message: cause.message };
  return { type: undefined, message: err instanceof Error ? err.message : String(err) };
}

export function beginFullListingIfNeeded(s: CarriedState, listFrom: string | undefined): void {
  if (listFrom === undefined && !s.fullListing) {
    s.fullListing = true;
    s.listingGeneration += 1;
  }
}

/** What `persistNewFiles` needs to record a kept page (or, without one, to sweep). */
export function keptPageRecording(
  run: ListingRun,
  listed: { page?: ListingPageRef | undefined; hasMore: boolean; rejectedFileIds: string[] },
): PersistInput {
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
  };
}

/** A kept page with names to check; one holding only deletions (or nothing) has none. */
export function hasNames(summary: ListedPageSummary): summary is ListedPageSummary & { page: ListingPageRef } {
  return summary.page !== undefined && summary.counts.files + summary.counts.folders > 0;
}

/**
 * Checks a kept page's names (unless it has none): records its rejections and skipped subfolders,
 * counts them, and returns the ids of the files not to record.
 */
export async function checkKeptPage(
  run: ListingRun,
  summary: ListedPageSummary,
  via: Pick<typeof records, 'rejectSpecialCharacterPaths'> = records,
): Promise<string[] | undefined> {
  if (!hasNames(summary)) return undefined;
  const { page } = summary;
  const { mappingId, projectId } = run.input;
  const rejection = await via.rejectSpecialCharacterPaths({ mappingId, projectId, page });
  run.s.counters.rejections += rejection.rejectedFileIds.length;
  run.s.counters.skippedFolders += rejection.skippedFolders;
  return rejection.rejectedFileIds;
}

/** A new mapping's first listing: nothing was recorded for it before. */
export function isFirstListing({ s, input }: ListingRun): boolean {
  return s.fullListing && input.newMapping === true && s.listingGeneration === 1;
}

/** The last page of a full listing sweeps, except the first listing of a new mapping. */
export function sweepsAfter(run: ListingRun, hasMore: boolean): boolean {
  return run.s.fullListing && !hasMore && !isFirstListing(run);
}

/**
 * Lists the folder page by page from the saved cursor, each page kept in MongoDB by `listFolder`
 * so the history carries only its summary. A page is recorded while the next one is listed and
 * checked for names; the cursor moves past a page only once it is recorded.
 */
export async function listKeptPages(run: ListingRun): Promise<{ changed: boolean }> {
  const { s } = run;
  const { mappingId } = run.input;
  let changed = false;
  let listFrom = s.cursor;
  let slot: ListingPageRef['slot'] = 0;
  let recording: Promise<void> | undefined;
  const recorded = async () => {
    const pending = recording;
    recording = undefined;
    await pending;
  };
  try {
    for (;;) {
      beginFullListingIfNeeded(s, listFrom);
      let summary;
      try {
        const lister = recording ? dropboxPaging : dropbox;
        summary = await lister.listFolder({ mappingId, keepInSlot: slot, ...(listFrom ? { cursor: listFrom } : {}) });
      } catch (err) {
        await recorded();
        if (failureOf(err).type !== FailureTypes.cursorReset) throw err;
        // Dropbox forgot where we were: list everything again; the sweep at its end removes
        // records of files deleted while the cursor was lost.
        s.cursor = listFrom = undefined;
        s.fullListing = false;
        continue;
      }
      s.counters.dropboxPages += 1;
      const { page, cursor, hasMore } = summary;
      const rejectedFileIds = await checkKeptPage(run, summary);
      if (rejectedFileIds) changed = true;
      const persistInput = keptPageRecording(run, { page, hasMore, rejectedFileIds: rejectedFileIds ?? [] });
      const { sweep } = persistInput;
      await recorded();
      if (page || sweep) {
        recording = records.persistNewFiles(persistInput).then((persisted) => {
          s.counters.filesAdded += persisted.added;
          s.counters.filesUpdated += persisted.updated;
          s.counters.filesDeleted += persisted.deleted;
          changed ||= persisted.added + persisted.updated + persisted.deleted > 0;
          s.cursor = cursor;
        });
        // Handled from now on, so a failure while the next page is listed is not an unhandled
        // rejection; `recorded()` still throws it.
        recording.catch(() => undefined);
      } else {
        s.cursor = cursor;
      }
      listFrom = cursor;
      slot = slot === 0 ? 1 : 0;
      if (!hasMore) {
        await recorded();
        s.fullListing = false;
        return { changed };
      }
      if (run.shouldContinueAsNew()) {
        await recorded();
        s.syncRequested = true;
        throw new CycleInterrupted();
      }
    }
  } finally {
    // A cycle cut short still settles the page being recorded; its own failure is the cut's.
    await recording?.catch(() => undefined);
  }
}

/**
 * The listing of runs started before pages were kept (`patched` returns false only when replaying
 * them): each page passes through the history, as the `listFolder` result and again as input.
 */
export async function listInlinePages(run: ListingRun): Promise<{ changed: boolean }> {
  const { s } = run;
  const { mappingId, projectId } = run.input;
  let changed = false;
  for (;;) {
    beginFullListingIfNeeded(s, s.cursor);
    let page: ListedPage;
    try {
      page = await dropbox.listFolder({ mappingId, ...(s.cursor ? { cursor: s.cursor } : {}) });
    } catch (err) {
      if (failureOf(err).type !== FailureTypes.cursorReset) throw err;
      s.cursor = undefined;
      s.fullListing = false;
      continue;
    }
    s.counters.dropboxPages += 1;
    let accepted = page.files;
    if (page.files.length > 0 || page.folders.length > 0) {
      const rejection = await records.rejectSpecialCharacterPaths({
        mappingId,
        projectId,
        files: page.files.map(({ id, name, pathDisplay, pathLower }) => ({ id, name, pathDisplay, pathLower })),
        folders: page.folders,
      });
      if (rejection.rejectedFileIds.length > 0) {
        const rejected = new Set(rejection.rejectedFileIds);
        accepted = page.files.filter((f) => !rejected.has(f.id));
      }
      s.counters.rejections += rejection.rejectedFileIds.length;
      s.counters.skippedFolders += rejection.skippedFolders;
      changed = true;
    }
    const sweep = sweepsAfter(run, page.hasMore);
    if (accepted.length > 0 || page.deletedPaths.length > 0 || sweep) {
      const persisted = await records.persistNewFiles({
        mappingId,
        projectId,
        files: accepted,
        deletedPaths: page.deletedPaths,
        listingGeneration: s.listingGeneration,
        sweep,
        fullListing: s.fullListing,
      });
      s.counters.filesAdded += persisted.added;
      s.counters.filesUpdated += persisted.updated;
      s.counters.filesDeleted += persisted.deleted;
      changed ||= persisted.added + persisted.updated + persisted.deleted > 0;
    }
    s.cursor = page.cursor;
    if (!page.hasMore) {
      s.fullListing = false;
      return { changed };
    }
    if (run.shouldContinueAsNew()) {
      s.syncRequested = true;
      throw new CycleInterrupted();
    }
  }
}
