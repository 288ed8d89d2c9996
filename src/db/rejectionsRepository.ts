import type { AnyBulkWriteOperation, Db } from 'mongodb';
import { SUBFOLDER_HINT } from '../domain/mappingState';
import type { ListedFolder, RejectionKind, RejectionRecord } from '../domain/types';
import { inBatches } from './batches';
import { collections } from './collections';
import { pageById, type PageRequest } from './paging';

export interface SpecialCharacterEntry {
  id: string;
  name: string;
  pathDisplay: string;
  pathLower: string;
  characters: string[];
}

export const SUBFOLDER_REASON =
  'Subfolders are not synced: a mapping syncs only the files directly in its folder';

export function specialCharactersReason(characters: readonly string[]): string {
  return `The name contains characters that are not allowed: ${characters.map((c) => JSON.stringify(c)).join(', ')}`;
}

export function tooLargeReason(size: number, maxBytes: number): string {
  return `The file is ${size} bytes, more than the ${maxBytes} bytes a synced file may have (MAX_FILE_BYTES)`;
}

export function rejectionId(mappingId: string, dropboxId: string): string {
  return `${mappingId}:${dropboxId}`;
}

type RejectionFields = Omit<RejectionRecord, '_id' | 'firstSeenAt' | 'lastSeenAt'>;

const lastSeenBefore = (time: Date | undefined) => (time ? { lastSeenAt: { $lt: time } } : {});

export function createRejectionsRepository(db: Db) {
  const { rejections } = collections(db);

  /**
   * Upserts keyed by entry: recording the same entries again only moves `lastSeenAt`. Returns how
   * many were new.
   */
  async function record(entries: RejectionFields[], now: Date): Promise<number> {
    const ops: AnyBulkWriteOperation<RejectionRecord>[] = entries.map(({ hint, ...fields }) => ({
      updateOne: {
        filter: { _id: rejectionId(fields.mappingId, fields.dropboxId) },
        update: {
          $set: { ...fields, ...(hint !== undefined ? { hint } : {}), lastSeenAt: now },
          $setOnInsert: { firstSeenAt: now },
          // A file renamed in place keeps its id; only a subfolder carries the hint.
          ...(hint === undefined ? { $unset: { hint: '' } } : {}),
        },
        upsert: true,
      },
    }));
    let added = 0;
    for (const batch of inBatches(ops)) added += (await rejections.bulkWrite(batch, { ordered: false })).upsertedCount;
    return added;
  }

  return {
    /** Returns how many of the entries were not refused before. */
    async recordSpecialCharacters(
      mapping: { id: string; projectId: string },
      entries: SpecialCharacterEntry[],
      listingGeneration: number,
      now: Date,
    ): Promise<number> {
      return record(
        entries.map((e) => ({
          mappingId: mapping.id,
          projectId: mapping.projectId,
          listingGeneration,
          dropboxId: e.id,
          kind: 'special_characters',
          name: e.name,
          path: e.pathDisplay,
          pathLower: e.pathLower,
          characters: e.characters,
          reason: specialCharactersReason(e.characters),
        })),
        now,
      );
    },

    async recordSkippedFolders(
      mapping: { id: string; projectId: string },
      folders: ListedFolder[],
      listingGeneration: number,
      now: Date,
    ): Promise<void> {
      await record(
        folders.map((f) => ({
          mappingId: mapping.id,
          projectId: mapping.projectId,
          listingGeneration,
          dropboxId: f.id,
          kind: 'subfolder',
          name: f.name,
          path: f.pathDisplay,
          pathLower: f.pathLower,
          characters: [],
          reason: SUBFOLDER_REASON,
          hint: SUBFOLDER_HINT,
        })),
        now,
      );
    },

    /** A file larger than MAX_FILE_BYTES: its record stays, its bytes are not copied. 1 if newly refused. */
    async recordTooLarge(
      file: { mappingId: string; projectId: string; dropboxId: string; name: string; path: string; pathLower: string; size: number },
      maxBytes: number,
      now: Date,
    ): Promise<number> {
      return record(
        [
          {
            mappingId: file.mappingId,
            projectId: file.projectId,
            dropboxId: file.dropboxId,
            kind: 'too_large',
            name: file.name,
            path: file.path,
            pathLower: file.pathLower,
            characters: [],
            reason: tooLargeReason(file.size, maxBytes),
          },
        ],
        now,
      );
    },

    /**
     * An entry deleted or renamed away takes its rejection with it. With `seenBefore` (when the
     * page was listed), only rejections last seen before it: see `removeByIds`.
     */
    async removeByPaths(mappingId: string, pathLowers: string[], seenBefore?: Date): Promise<number> {
      if (pathLowers.length === 0) return 0;
      const result = await rejections.deleteMany({
        mappingId,
        pathLower: { $in: [...new Set(pathLowers)] },
        ...lastSeenBefore(seenBefore),
      });
      return result.deletedCount;
    },

    /**
     * Files now accepted (renamed in place to a good name) are no longer rejected. With
     * `seenBefore` (when the page was listed), only rejections last seen before it: the check of a
     * later page runs while this one is recorded, and what it just recorded (the file renamed to
     * a refused name between the two pages) is newer than this page.
     */
    async removeByIds(mappingId: string, dropboxIds: string[], seenBefore?: Date): Promise<number> {
      if (dropboxIds.length === 0) return 0;
      const ids = [...new Set(dropboxIds)].map((id) => rejectionId(mappingId, id));
      const result = await rejections.deleteMany({ _id: { $in: ids }, ...lastSeenBefore(seenBefore) });
      return result.deletedCount;
    },

    /**
     * A path whose entry (file or folder) is now another Dropbox item than a rejection recorded
     * there names: Dropbox reports only the new item (deleted and made again, or another moved
     * into its place), so the old one's rejection goes. Only rejections last seen before the page
     * was listed, as for `removeByIds`. Read first, then deleted by `_id`: the filter is "at this
     * path with another id", which no single query says per path.
     */
    async removeReplacedAtPaths(
      mappingId: string,
      entries: { id: string; pathLower: string }[],
      seenBefore: Date,
    ): Promise<number> {
      if (entries.length === 0) return 0;
      const idAt = new Map(entries.map((e) => [e.pathLower, e.id]));
      const found = await rejections
        .find(
          { mappingId, pathLower: { $in: [...idAt.keys()] }, ...lastSeenBefore(seenBefore) },
          { projection: { _id: 1, pathLower: 1, dropboxId: 1 } },
        )
        .toArray();
      const replaced = found.filter((r) => idAt.get(r.pathLower) !== r.dropboxId).map((r) => r._id);
      if (replaced.length === 0) return 0;
      const result = await rejections.deleteMany({ _id: { $in: replaced }, ...lastSeenBefore(seenBefore) });
      return result.deletedCount;
    },

    /**
     * After a full listing: removes the refused names and skipped subfolders it did not see (gone
     * from Dropbox while the mapping's cursor was reset). Any other generation, as for files.
     */
    async sweepUnseen(mappingId: string, listingGeneration: number): Promise<number> {
      const result = await rejections.deleteMany({
        mappingId,
        kind: { $in: ['special_characters', 'subfolder'] },
        listingGeneration: { $ne: listingGeneration },
      });
      return result.deletedCount;
    },

    /** Dropbox ids of the mapping's files rejected as too large. */
    async tooLargeIds(mappingId: string): Promise<string[]> {
      const found = await rejections
        .find({ mappingId, kind: 'too_large' }, { projection: { dropboxId: 1 } })
        .toArray();
      return found.map((r) => r.dropboxId);
    },

    async list(
      mappingId: string,
      page: PageRequest & { kind?: RejectionKind },
    ): Promise<{ rejections: RejectionRecord[]; next: string | null }> {
      const filter = page.kind ? { mappingId, kind: page.kind } : { mappingId };
      const { items, next } = await pageById(rejections, filter, page);
      return { rejections: items, next };
    },

    async counts(mappingId: string): Promise<{ rejections: number; skippedFolders: number }> {
      const [files, folders] = await Promise.all([
        rejections.countDocuments({ mappingId, kind: { $in: ['special_characters', 'too_large'] } }),
        rejections.countDocuments({ mappingId, kind: 'subfolder' }),
      ]);
      return { rejections: files, skippedFolders: folders };
    },
  };
}

export type RejectionsRepository = ReturnType<typeof createRejectionsRepository>;
