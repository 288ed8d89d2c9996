import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { deflateRaw, inflateRaw } from 'node:zlib';
import { Binary, type Db } from 'mongodb';
import type { ListedPage, ListingPageRecord, ListingPageRef } from '../domain/types';
import { collections, type StoredListingPage } from './collections';

const deflate = promisify(deflateRaw);
const inflate = promisify(inflateRaw);

export const LISTING_PAGE_SLOTS = [0, 1, 2, 3] as const satisfies readonly ListingPageRef['slot'][];

export type KeptPageLookup = { status: 'kept'; page: ListingPageRecord } | { status: 'gone' | 'replaced' };

function slotId(mappingId: string, slot: ListingPageRef['slot']): string {
  return `${mappingId}:${slot}`;
}

/**
 * Listed pages on their way from `listFolder` to `persistNewFiles`, kept here rather than in the
 * workflow history: a 2,000-entry page is ≈ 0.8 MB of JSON, and the history would carry it twice.
 * A slot is overwritten by the next page listed into it, so a cycle interrupted between listing
 * and persisting leaves at most four documents per mapping behind.
 */
export function createListingPagesRepository(db: Db, { cachedPages = 16 } = {}) {
  const { listingPages } = collections(db);
  // The worker that kept a page usually checks and records it too: it reads its own copy instead
  // of MongoDB's. A page id is never reused, so a copy with the same id is that page's content.
  const cache = new Map<string, ListingPageRecord>();
  const remember = (page: ListingPageRecord) => {
    cache.delete(page._id);
    cache.set(page._id, page);
    for (const oldest of cache.keys()) {
      if (cache.size <= cachedPages) break;
      cache.delete(oldest);
    }
  };
  return {
    async keep(
      mappingId: string,
      slot: ListingPageRef['slot'],
      page: Pick<ListedPage, 'files' | 'folders' | 'deletedPaths'>,
      now: Date,
    ): Promise<ListingPageRef> {
      const pageId = randomUUID();
      // One compressed value rather than 2,000 subdocuments: FerretDB converts every field of a
      // document on each write and read, which made a structured page cost ≈ 0.2 s per access.
      const entries = { files: page.files, folders: page.folders, deletedPaths: page.deletedPaths };
      const record: StoredListingPage = {
        _id: slotId(mappingId, slot),
        mappingId,
        pageId,
        entries: new Binary(await deflate(JSON.stringify(entries), { level: 1 })),
        listedAt: now,
      };
      await listingPages.replaceOne({ _id: record._id }, record, { upsert: true });
      remember({ _id: record._id, mappingId, pageId, listedAt: now, ...entries });
      return { slot, pageId, listedAt: now.getTime() };
    },

    /** The page; or whether its slot is empty (the page was persisted and dropped) or holds a later one. */
    async find(mappingId: string, ref: ListingPageRef): Promise<KeptPageLookup> {
      const cached = cache.get(slotId(mappingId, ref.slot));
      if (cached?.pageId === ref.pageId) return { status: 'kept', page: cached };
      const record = await listingPages.findOne({ _id: slotId(mappingId, ref.slot) });
      if (!record) return { status: 'gone' };
      if (record.pageId !== ref.pageId) return { status: 'replaced' };
      const entries = JSON.parse((await inflate(record.entries.buffer)).toString('utf8')) as Pick<
        ListingPageRecord,
        'files' | 'folders' | 'deletedPaths'
      >;
      const { _id, pageId, listedAt } = record;
      const page = { _id, mappingId, pageId, listedAt, ...entries };
      remember(page);
      return { status: 'kept', page };
    },

    /**
     * The mapping's kept pages; with `listedUpTo`, only those listed by then: a listing's end drops
     * its own pages, never those of a later listing (an attempt given up on by Temporal may still
     * be running while the next cycle keeps its pages).
     */
    async dropAll(mappingId: string, listedUpTo?: Date): Promise<void> {
      const ids = LISTING_PAGE_SLOTS.map((slot) => slotId(mappingId, slot));
      for (const id of ids) {
        const cached = cache.get(id);
        if (cached && (!listedUpTo || cached.listedAt <= listedUpTo)) cache.delete(id);
      }
      await listingPages.deleteMany({ _id: { $in: ids }, ...(listedUpTo ? { listedAt: { $lte: listedUpTo } } : {}) });
    },
  };
}

export type ListingPagesRepository = ReturnType<typeof createListingPagesRepository>;
