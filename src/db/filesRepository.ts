import { MongoBulkWriteError, type AnyBulkWriteOperation, type Db } from 'mongodb';
import type { FileRecord, ListedFile } from '../domain/types';
import { inBatches } from './batches';
import { findByIds } from './byIds';
import { collections } from './collections';
import { isDuplicateKeyError } from './errors';
import {
  STORED_FILE_PROJECTION,
  fileRecordId,
  newestPerId,
  planListedFiles,
  type StoredFile,
} from './filePlan';
import { newestCursor, pageById, readNewestCursor, type PageRequest } from './paging';

export interface PersistCounts {
  added: number;
  updated: number;
  unchanged: number;
}

/** Concurrent writers of the same new files (an activity and its retry) settle within a few rounds. */
const MAX_ROUNDS = 3;

/**
 * A whole listing page (Dropbox lists at most 2,000 entries a page) in one command: FerretDB spends
 * less on a page sent whole than in parts of 500, measured over 45 pairs of runs (git log -p -- BENCHMARKS.md).
 */
const INSERTS_PER_COMMAND = 2_000;

export function createFilesRepository(db: Db) {
  const { files } = collections(db);
  const live = (mappingId: string) => ({ mappingId, deletedAt: null });
  /** What a listing shows: the files in the folder now, or those Dropbox reported deleted. */
  const shown = (mappingId: string, deleted: boolean) =>
    deleted ? { mappingId, deletedAt: { $ne: null } } : live(mappingId);

  // The last insert queued per mapping in this process.
  const insertTurns = new Map<string, Promise<unknown>>();

  /**
   * Inserts new records; returns the files already recorded (before, or by another writer
   * meanwhile). Two pages of one mapping recorded at once insert in turn, so the second waits
   * here rather than in the database: on FerretDB they contend for SQLite's one writer, which
   * measured slower than taking turns (git log -p -- BENCHMARKS.md).
   */
  function insertNew(
    mappingId: string,
    records: FileRecord[],
    byId: Map<string, ListedFile>,
  ): Promise<ListedFile[]> {
    const previous = insertTurns.get(mappingId) ?? Promise.resolve();
    const turn = previous.then(() => insertParts(records, byId));
    const settled = turn.catch(() => undefined);
    insertTurns.set(mappingId, settled);
    void settled.then(() => {
      if (insertTurns.get(mappingId) === settled) insertTurns.delete(mappingId);
    });
    return turn;
  }

  async function insertParts(records: FileRecord[], byId: Map<string, ListedFile>): Promise<ListedFile[]> {
    const recorded: ListedFile[] = [];
    // Plain inserts, not upserts: FerretDB writes an insert command in one transaction, where each
    // upsert would scan the collection. ordered:false keeps going past a record another writer made.
    for (const part of inBatches(records, INSERTS_PER_COMMAND)) {
      try {
        await files.insertMany(part, { ordered: false });
      } catch (err) {
        if (!(err instanceof MongoBulkWriteError) || !isDuplicateKeyError(err)) throw err;
        const failed = Array.isArray(err.writeErrors) ? err.writeErrors : [err.writeErrors];
        for (const e of failed) {
          const file = byId.get(part[e.index]?._id ?? '');
          if (file) recorded.push(file);
        }
      }
    }
    return recorded;
  }

  /**
   * Reads what is stored, then writes only what differs. Not one bulk of guarded upserts:
   * FerretDB 1.24 stops an update command at its first error even with ordered:false (and then
   * reports zero counts for what it did apply), so the duplicate-key error of an older rev would
   * drop the rest of the page. Reading first also makes the counts exact and lets an unchanged
   * page cost no write at all.
   */
  async function persistRound(
    mapping: { id: string; projectId: string },
    listed: ListedFile[],
    listingGeneration: number,
    now: Date,
  ): Promise<PersistCounts & { raced: ListedFile[] }> {
    const ids = listed.map((f) => fileRecordId(mapping.id, f.id));
    const stored = await findByIds(files, ids, STORED_FILE_PROJECTION);
    const plan = planListedFiles(
      mapping,
      listed,
      listingGeneration,
      now,
      new Map(stored.map((s) => [s._id, s as StoredFile])),
    );

    const byId = new Map(listed.map((f) => [fileRecordId(mapping.id, f.id), f]));
    const raced = await insertNew(mapping.id, plan.inserts, byId);
    let updated = 0;
    for (const batch of inBatches(plan.updates)) {
      const ops: AnyBulkWriteOperation<FileRecord>[] = batch.map(({ _id, fields }) => ({
        updateOne: {
          filter: { _id, serverModified: { $lte: fields.serverModified } },
          update: { $set: fields },
        },
      }));
      const result = await files.bulkWrite(ops, { ordered: false });
      // An op that matched nothing met a newer rev written since the read: that entry is unchanged.
      updated += result.matchedCount;
    }
    if (plan.stamps.length > 0) {
      await files.updateMany(
        { _id: { $in: plan.stamps }, listingGeneration: { $ne: listingGeneration } },
        { $set: { listingGeneration } },
      );
    }
    return {
      added: plan.inserts.length - raced.length,
      updated,
      unchanged: plan.unchanged + plan.updates.length - updated,
      raced,
    };
  }

  return {
    /**
     * Records a page of listed files. Idempotent: the same page again writes nothing (or only the
     * listing mark) and reports every file unchanged; a record keeps the newest rev; a renamed
     * file keeps its one record at its new path; a file that comes back is live again.
     */
    async upsertListedFiles(
      mapping: { id: string; projectId: string },
      listedFiles: ListedFile[],
      listingGeneration: number,
      now: Date,
    ): Promise<PersistCounts> {
      const totals: PersistCounts = { added: 0, updated: 0, unchanged: 0 };
      const newest = newestPerId(listedFiles);
      // Insert first, read only what was already there. Most listed files are new (a first
      // listing is all new), and on FerretDB any read but a single `_id` match scans the whole
      // collection: reading first made every page cost a scan of every file of every mapping.
      // A file already recorded fails its insert (duplicate key, cheap) and goes the read path.
      const fresh = planListedFiles(mapping, newest, listingGeneration, now, new Map());
      const byId = new Map(newest.map((f) => [fileRecordId(mapping.id, f.id), f]));
      let pending = await insertNew(mapping.id, fresh.inserts, byId);
      totals.added += fresh.inserts.length - pending.length;
      for (let round = 1; pending.length > 0; round += 1) {
        if (round > MAX_ROUNDS)
          throw new Error(`Files of mapping ${mapping.id} kept changing under concurrent writes`);
        const { raced, ...counts } = await persistRound(mapping, pending, listingGeneration, now);
        totals.added += counts.added;
        totals.updated += counts.updated;
        totals.unchanged += counts.unchanged;
        pending = raced;
      }
      return totals;
    },

    /** Marks deleted the live records at these paths (deleted, or renamed away); returns how many. */
    async markDeletedByPaths(mappingId: string, pathLowers: string[], now: Date): Promise<number> {
      if (pathLowers.length === 0) return 0;
      const result = await files.updateMany(
        { ...live(mappingId), pathLower: { $in: [...new Set(pathLowers)] } },
        { $set: { deletedAt: now, updatedAt: now } },
      );
      return result.modifiedCount;
    },

    /**
     * Marks deleted the live records that sit at these files' paths but belong to files not in
     * the page. Dropbox reports each path once, with what is there now: a file deleted (or
     * renamed away) and replaced at its path by another file shows only as that other file, so
     * whatever was recorded at the path is gone. Records of files in the page are left to the
     * upsert, which moves them. Returns how many were marked.
     */
    async markReplacedAtPaths(
      mappingId: string,
      listed: { id: string; pathLower: string }[],
      now: Date,
    ): Promise<number> {
      if (listed.length === 0) return 0;
      const ids = new Set(listed.map((f) => f.id));
      const occupants = await files
        .find(
          { ...live(mappingId), pathLower: { $in: [...new Set(listed.map((f) => f.pathLower))] } },
          { projection: { _id: 1, dropboxId: 1 } },
        )
        .toArray();
      const replaced = occupants.filter((r) => !ids.has(r.dropboxId)).map((r) => r._id);
      if (replaced.length === 0) return 0;
      const result = await files.updateMany(
        { _id: { $in: replaced }, deletedAt: null },
        { $set: { deletedAt: now, updatedAt: now } },
      );
      return result.modifiedCount;
    },

    /**
     * After a full listing: marks deleted every live record that listing did not see. "Not seen"
     * is any other generation, not only older ones, so a workflow restarted from generation 1
     * still sweeps records stamped by its predecessor.
     */
    async sweepUnseen(mappingId: string, listingGeneration: number, now: Date): Promise<number> {
      const result = await files.updateMany(
        { ...live(mappingId), listingGeneration: { $ne: listingGeneration } },
        { $set: { deletedAt: now, updatedAt: now } },
      );
      return result.modifiedCount;
    },

    /** Live records (or, with `deleted`, the deleted ones), ordered by `_id`. */
    async list(
      mappingId: string,
      page: PageRequest,
      deleted = false,
    ): Promise<{ files: FileRecord[]; next: string | null }> {
      const { items, next } = await pageById(files, shown(mappingId, deleted), page);
      return { files: items, next };
    },

    /**
     * Live files (or the deleted ones) by Dropbox's modification time, newest first (ties by id), for people reading
     * what arrived. Keyset paging over (serverModified, _id): stable while files are added.
     * No index of its own: one would cost every file insert, the sync's hot path, for a page an
     * admin opens now and then (the page asks again only when the mapping's counts change).
     * Throws RangeError on a cursor it did not make.
     */
    async listNewest(
      mappingId: string,
      page: PageRequest,
      deleted = false,
    ): Promise<{ files: FileRecord[]; next: string | null }> {
      if (!Number.isInteger(page.limit) || page.limit < 1)
        throw new RangeError('limit must be a positive integer');
      const after = page.after ? readNewestCursor(page.after) : undefined;
      // Another mapping's cursor would page from an arbitrary place in this one.
      if (page.after && !after?.id.startsWith(`${mappingId}:`)) throw new RangeError('not a cursor of this listing');
      const older = after
        ? {
            $or: [
              { serverModified: { $lt: after.time } },
              { serverModified: after.time, _id: { $lt: after.id } },
            ],
          }
        : {};
      const found = await files
        .find({ ...shown(mappingId, deleted), ...older })
        .sort({ serverModified: -1, _id: -1 })
        .limit(page.limit + 1)
        .toArray();
      const items = found.slice(0, page.limit);
      const last = items[items.length - 1];
      return {
        files: items,
        next: found.length > page.limit && last ? newestCursor(last.serverModified, last._id) : null,
      };
    },

    /** Of these Dropbox ids, those whose record in the mapping is live. */
    /** The live records among these (by record id). */
    async liveRecords(recordIds: string[]): Promise<FileRecord[]> {
      return (await findByIds(files, recordIds)).filter((f) => f.deletedAt === null);
    },

    async countLive(mappingId: string): Promise<number> {
      return files.countDocuments(live(mappingId));
    },

    async listAllLive(mappingId: string): Promise<FileRecord[]> {
      return files.find(live(mappingId)).sort({ _id: 1 }).toArray();
    },
  };
}

export type FilesRepository = ReturnType<typeof createFilesRepository>;
