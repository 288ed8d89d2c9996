import { randomUUID } from 'node:crypto';
import { LISTING_PAGE_SLOTS } from '../db/listingPagesRepository';
import type { ListedPage, ListingPageRecord, ListingPageRef } from '../domain/types';

/** Entries a worker holds by default: ≈ 450 bytes each in memory, so ≈ 45 MB at most. */
export const DEFAULT_HELD_ENTRIES = 100_000;

/**
 * A page nobody recorded within this time belongs to a listing that was cut short (a pause, an
 * unmap, a run that continued as new) or moved to another worker; the longest a recording waits
 * (its local activity's schedule-to-close) is well inside it.
 */
const ABANDONED_AFTER_MS = 30 * 60_000;

export interface HeldPagesOptions {
  /** Listed entries (files, folders, deleted paths) held at once; a page past it is not held. */
  maxEntries?: number;
  now?: () => number;
}

/**
 * Listed pages on their way from `listFolder` to `rejectSpecialCharacterPaths` and
 * `persistNewFiles` when all three run as local activities of one workflow task, so on this
 * worker: held in its memory, never written to MongoDB. A page that would take the worker past
 * its budget is not held (the caller keeps it in MongoDB instead). A page lost with its worker is
 * listed again by the workflow, from the cursor it saved after the last recorded page.
 */
export interface HeldPages {
  /** Holds the page in the mapping's slot (replacing what it held); undefined when over budget. */
  hold(
    mappingId: string,
    slot: ListingPageRef['slot'],
    page: Pick<ListedPage, 'files' | 'folders' | 'deletedPaths'>,
    listedAt: Date,
  ): ListingPageRef | undefined;
  /** The page, if this worker still holds it. */
  get(mappingId: string, ref: ListingPageRef): ListingPageRecord | undefined;
  /** Lets go of every page the mapping holds: its listing is recorded, or it was unmapped. */
  releaseAll(mappingId: string): void;
  /** Entries held now, for tests and metrics. */
  entries(): number;
}

const slotId = (mappingId: string, slot: ListingPageRef['slot']) => `${mappingId}:${slot}`;

const size = (page: Pick<ListedPage, 'files' | 'folders' | 'deletedPaths'>) =>
  page.files.length + page.folders.length + page.deletedPaths.length;

export function createHeldPages({
  maxEntries = DEFAULT_HELD_ENTRIES,
  now = Date.now,
}: HeldPagesOptions = {}): HeldPages {
  // In the order they were held, so the abandoned ones are at the front.
  const pages = new Map<string, { page: ListingPageRecord; size: number; heldAt: number }>();
  let held = 0;

  const drop = (id: string) => {
    const entry = pages.get(id);
    if (!entry) return;
    pages.delete(id);
    held -= entry.size;
  };

  const dropAbandoned = () => {
    for (const [id, entry] of pages) {
      if (now() - entry.heldAt < ABANDONED_AFTER_MS) return;
      drop(id);
    }
  };

  return {
    hold(mappingId, slot, page, listedAt) {
      const id = slotId(mappingId, slot);
      drop(id);
      dropAbandoned();
      const entries = size(page);
      if (held + entries > maxEntries) return undefined;
      const pageId = randomUUID();
      const record: ListingPageRecord = {
        _id: id,
        mappingId,
        pageId,
        files: page.files,
        folders: page.folders,
        deletedPaths: page.deletedPaths,
        listedAt,
      };
      pages.set(id, { page: record, size: entries, heldAt: now() });
      held += entries;
      return { slot, pageId, onWorker: true };
    },

    get(mappingId, ref) {
      const entry = pages.get(slotId(mappingId, ref.slot));
      return entry?.page.pageId === ref.pageId ? entry.page : undefined;
    },

    releaseAll(mappingId) {
      for (const slot of LISTING_PAGE_SLOTS) drop(slotId(mappingId, slot));
    },

    entries: () => held,
  };
}
