import type { Readable, Writable } from 'node:stream';
import { type Db, MongoBulkWriteError } from 'mongodb';
import { atFirstRev } from '../domain/contentRevs';
import type { ContentFailureReason, ContentRecord, FileRecord } from '../domain/types';
import { findByIds, READ_ONE_BY_ONE_UP_TO } from './byIds';
import { collections } from './collections';
import { createContentUploads } from './contentUploads';
import { inBatches } from './batches';
import { isDuplicateKeyError } from './errors';
import { contentRecordId, fileRecordId, pendingContent } from './filePlan';

export { CONTENT_BUCKET } from './contentUploads';
/** A listing page's worth: one insert command each (on FerretDB, one transaction). */
const PENDING_PER_COMMAND = 2_000;
/**
 * How long a replaced rev's bytes outlive it: a download that began before the new rev was stored
 * reads on from them instead of breaking off mid-file. GridFS streams a file chunk by chunk through
 * a cursor, and on MongoDB a cursor's later batches do not see deleted chunks. (FerretDB's SQLite
 * cursors read a snapshot, so this machine's tests cannot show the break.)
 */
export const REPLACED_BYTES_KEPT_MS = 60 * 60_000;

/** A rev whose bytes are to be copied, with the file record that names it now (if it does). */
export interface PendingContent {
  content: ContentRecord;
  /** The file's record as it is now (a content record is made from one, so null only if it went). */
  file: FileRecord | null;
  /**
   * The file's stored and failed revs when the batch was read. Only the mapping's one copy stores
   * revs, and it stores one rev per file, so this is what a rev stored now supersedes: the bytes
   * of an older stored rev, and an older rev that failed (it no longer counts as failed).
   */
  earlierRevs: ContentRecord[];
}

export interface ContentCounts {
  pending: number;
  stored: number;
  failed: number;
}

/** What the file list and the content route show of a file's bytes. */
export interface FileContent {
  /** The content record of the file's current rev (none for a record older than contents). */
  current: ContentRecord | null;
  /** The rev whose verified bytes are served: the newest stored, which may trail the file's rev. */
  stored: ContentRecord | null;
}

/** What a record older than contents, or one not found, shows. */
export const NO_CONTENT: FileContent = { current: null, stored: null };

/**
 * File contents in GridFS (`contentUploads.ts`) and their content records, written by the copy
 * alone: it inserts the revs to copy into `pending_contents` from the file records the listing
 * wrote (`recordPendingRevs`); a rev leaves them with its outcome inserted into `contents`.
 * A rev counts as stored only after its upload finished and matched the content hash: the
 * verified upload's outcome is inserted, and of two attempts at one rev (a worker that died and
 * its retry, a copy cut off and the next) the first to insert wins; the other's upload is deleted.
 * (No projections on findOneAndUpdate: FerretDB 1.24 does not implement them.)
 */
export function createFileContentsRepository(db: Db) {
  const { files, contents, pendingContents, endedContents } = collections(db);
  const uploads = createContentUploads(db);

  /**
   * The rev leaves the copy's work with this outcome, unless an outcome was inserted first (true
   * when this one was). Its pending record and uploads go at the end of the batch (`endBatch`).
   */
  async function leavePending(outcome: ContentRecord): Promise<boolean> {
    let first = true;
    try {
      await contents.insertOne(outcome);
    } catch (err) {
      if (!isDuplicateKeyError(err)) throw err;
      first = false;
    }
    const ended = { _id: outcome._id, mappingId: outcome.mappingId };
    await endedContents.insertOne(outcome.reopenedAt ? { ...ended, reopenedAt: outcome.reopenedAt } : ended).catch((err: unknown) => {
      if (!isDuplicateKeyError(err)) throw err;
    });
    return first;
  }

  /** Revs still to copy: pending records but those whose outcome is in (their batch goes on). */
  async function countPending(mappingId: string): Promise<number> {
    const [listed, ended] = await Promise.all([
      pendingContents.countDocuments({ mappingId }),
      endedContents.countDocuments({ mappingId }),
    ]);
    // A crash between endBatch's two deletes leaves names of revs whose pending records went.
    return Math.max(0, listed - ended);
  }

  /** The file has moved past a rev that failed: the status counts it failed no more. */
  async function supersedeEarlierFailed(content: ContentRecord, earlierRevs: ContentRecord[]): Promise<void> {
    for (const other of earlierRevs) {
      if (other.state === 'failed' && other.serverModified <= content.serverModified)
        await contents.updateOne({ _id: other._id, state: 'failed' }, { $set: { state: 'superseded' } });
    }
  }

  function countInState(mappingId: string, state: 'stored' | 'failed'): Promise<number> {
    return contents.countDocuments({ mappingId, state });
  }

  /** Per file record: the content record of its rev, and its newest stored one. */
  async function contentOf(records: Pick<FileRecord, '_id' | 'rev'>[]): Promise<Map<string, FileContent>> {
    const byFile = { fileRecordId: { $in: records.map((r) => r._id) } };
    const [done, pending] =
      records.length === 0
        ? [[], []]
        : await Promise.all([contents.find(byFile).toArray(), pendingContents.find(byFile).toArray()]);
    const shown = new Map<string, FileContent>(records.map((r) => [r._id, { current: null, stored: null }]));
    const revOf = new Map(records.map((r) => [r._id, r.rev]));
    // The outcome after the pending record: both stay until the end of the rev's batch.
    for (const content of [...pending, ...done]) {
      const entry = shown.get(content.fileRecordId);
      if (!entry) continue;
      if (content.rev === revOf.get(content.fileRecordId)) entry.current = content;
      if (
        content.state === 'stored' &&
        (!entry.stored || entry.stored.serverModified < content.serverModified)
      )
        entry.stored = content;
    }
    return shown;
  }

  return {
    contentOf,

    /**
     * `contentOf` for one record, read by `_id` alone where it can be (on FerretDB that does not
     * decode every content record as `contentOf` does): a stored current rev is the newest stored
     * one, and a file at its first rev has no other (`atFirstRev`).
     */
    async contentOfFile(record: Pick<FileRecord, '_id' | 'rev' | 'firstRev'>): Promise<FileContent> {
      const id = contentRecordId(record._id, record.rev);
      const current = (await contents.findOne({ _id: id })) ?? (await pendingContents.findOne({ _id: id }));
      if (current?.state === 'stored') return { current, stored: current };
      if (atFirstRev(record)) return { current, stored: null };
      return (await contentOf([record])).get(record._id) ?? NO_CONTENT;
    },

    /**
     * Gives each file record updated since `since` a pending content record for its rev, unless
     * the rev has one or an outcome; returns how many were new. A file deleted since it was
     * recorded gets one too: its bytes stay downloadable by rev, and the deleted file's record
     * offers them. The copy does this, not the listing, so a first sync's records are readable
     * after one write per file and contents follow; a rev the file moved past before its copy
     * began is never copied.
     */
    async recordPendingRevs(mappingId: string, since: Date): Promise<number> {
      const recorded = await files
        .find(
          { mappingId, updatedAt: { $gte: since } },
          { projection: { _id: 1, mappingId: 1, rev: 1, serverModified: 1 } },
        )
        .toArray();
      const revs = recorded.map(pendingContent);
      const ids = revs.map((c) => c._id);
      const withOutcome =
        ids.length <= READ_ONE_BY_ONE_UP_TO
          ? await findByIds(contents, ids, { _id: 1 })
          : // Many (a first sync, a relisting): the mapping's outcomes at once. On FerretDB an `$in`
            // compares each document with every id: 10,000 ids over 10,000 records took 1.9 s, this 0.2 s.
            await contents.find({ mappingId }, { projection: { _id: 1 } }).toArray();
      const done = new Set(withOutcome.map((c) => c._id));
      let added = 0;
      // Plain inserts, not upserts (on FerretDB each upsert scans the collection); a rev that has
      // its record already fails its insert alone.
      for (const part of inBatches(revs.filter((c) => !done.has(c._id)), PENDING_PER_COMMAND)) {
        try {
          added += (await pendingContents.insertMany(part, { ordered: false })).insertedCount;
        } catch (err) {
          if (!(err instanceof MongoBulkWriteError) || !isDuplicateKeyError(err)) throw err;
          added += err.result.insertedCount;
        }
      }
      return added;
    },

    /** Revs of the mapping whose bytes are to be copied, by id after `afterId`, with their file records. */
    async listPending(mappingId: string, limit: number, afterId?: string): Promise<PendingContent[]> {
      const after = afterId === undefined ? {} : { _id: { $gt: afterId } };
      const pending = await pendingContents
        .find({ mappingId, ...after })
        .sort({ _id: 1 })
        .limit(limit)
        .toArray();
      if (pending.length === 0) return [];
      const records = await findByIds(files, [...new Set(pending.map((c) => c.fileRecordId))]);
      const byId = new Map(records.map((r) => [r._id, r]));
      // Stored revs matter only to a rev that will be stored, the file's current one, and only
      // past its first rev. Not a query per file: on FerretDB a query by any field but _id reads
      // the whole collection; a batch of new files needs none.
      const replacing = pending
        .filter((c) => {
          const file = byId.get(c.fileRecordId);
          return file?.rev === c.rev && !atFirstRev(file);
        })
        .map((c) => c.fileRecordId);
      const earlier =
        replacing.length === 0
          ? []
          : await contents.find({ fileRecordId: { $in: replacing }, state: { $in: ['stored', 'failed'] } }).toArray();
      return pending.map((content) => ({
        content,
        file: byId.get(content.fileRecordId) ?? null,
        earlierRevs: earlier.filter((s) => s.fileRecordId === content.fileRecordId),
      }));
    },

    /** This rev will not be copied: the file has a later rev. */
    async markSuperseded(content: ContentRecord): Promise<void> {
      await leavePending({ ...content, state: 'superseded' });
    },

    /**
     * Names an upload for each of these revs, before a batch of the copy starts them: one write
     * for the batch. A rev that has its outcome already (a crash came between its outcome and its
     * pending record's delete) is downloaded once more, and `markStored` refuses it.
     */
    nameUploads: (revs: ContentRecord[]): Promise<Map<string, string>> => uploads.name(revs),

    openUpload(uploadId: string, content: ContentRecord, file: FileRecord): Writable {
      return uploads.open(uploadId, content, file);
    },

    /**
     * The verified upload becomes this rev's content, and the file's older stored revs are
     * superseded (their bytes kept a while, see `dropReplacedBytes`), as are its older failed
     * revs. False when another attempt ended the rev first: this upload is deleted instead, by
     * `endBatch`.
     */
    async markStored(
      { content, earlierRevs }: Pick<PendingContent, 'content' | 'earlierRevs'>,
      uploadId: string,
      hash: string,
      size: number,
      now = new Date(),
    ): Promise<boolean> {
      const stored: ContentRecord = {
        ...content,
        state: 'stored',
        storedHash: hash,
        storedSize: size,
        storedFileId: uploadId,
        error: null,
      };
      if (!(await leavePending(stored))) return false;
      await supersedeEarlierFailed(content, earlierRevs);
      for (const other of earlierRevs) {
        if (other.state !== 'stored') continue;
        // Revs stored out of order: the later rev stays the file's content. The older one's bytes
        // stay for downloads under way; dropReplacedBytes deletes them once REPLACED_BYTES_KEPT_MS passed.
        const older = other.serverModified <= content.serverModified ? other : stored;
        await contents.updateOne({ _id: older._id, state: 'stored' }, { $set: { state: 'superseded', supersededAt: now } });
      }
      return true;
    },

    /**
     * At the end of a batch of the copy (and before its first): the pending records of the
     * mapping's revs that have their outcome go, in one delete; then the names of the batch's
     * uploads that hold no bytes or the stored ones (`done`), and the uploads left on revs that
     * have their outcome now (a worker killed mid-file, an attempt that lost).
     */
    async endBatch(mappingId: string, done: string[]): Promise<void> {
      const ended = await endedContents.find({ mappingId }).toArray();
      if (ended.length > 0) {
        // Pending records first: a crash between the two leaves names this deletes again. Only
        // the records that were ended: one reopened meanwhile (`reopenTooLarge`) stays.
        const plain = ended.filter((e) => !e.reopenedAt).map((e) => e._id);
        if (plain.length > 0) await pendingContents.deleteMany({ _id: { $in: plain }, reopenedAt: { $exists: false } });
        for (const { _id, reopenedAt } of ended.filter((e) => e.reopenedAt))
          await pendingContents.deleteOne({ _id, reopenedAt });
        await endedContents.deleteMany({ _id: { $in: ended.map((e) => e._id) } });
      }
      await uploads.settleMapping(mappingId, done);
    },

    /**
     * Once nothing copies for the mapping (unmapped): uploads left on its pending revs by a worker
     * killed mid-file are deleted, which otherwise only a batch's end after the rev's outcome would do.
     */
    releaseUploads: (mappingId: string): Promise<number> => uploads.release(mappingId),

    /** Deletes the bytes of the mapping's revs replaced before `before`; returns how many. */
    async dropReplacedBytes(mappingId: string, before: Date): Promise<number> {
      const replaced = await contents
        .find({ mappingId, state: 'superseded', storedFileId: { $ne: null }, supersededAt: { $lt: before } })
        .toArray();
      for (const rev of replaced) {
        // Bytes first: a crash between the two leaves a name the next call deletes again, never bytes no record names.
        await uploads.deleteBytes(rev.storedFileId!);
        await contents.updateOne({ _id: rev._id, storedFileId: rev.storedFileId }, { $set: { storedFileId: null } });
      }
      return replaced.length;
    },

    /**
     * Drops an upload that did not verify (or was cut off), unless it is the rev's stored bytes.
     * It stays named: a chunk the cut-off stream was still writing can land after this delete,
     * and once the rev has its outcome, a batch's end deletes the upload again.
     */
    async abandonUpload(contentId: string, uploadId: string): Promise<void> {
      const record = await contents.findOne({ _id: contentId });
      if (record?.storedFileId === uploadId) return;
      await uploads.deleteBytes(uploadId);
    },

    /** Counts a download of this rev that did not match its hash; returns how many so far. */
    async countMismatch(contentId: string): Promise<number> {
      const after = await pendingContents.findOneAndUpdate(
        { _id: contentId },
        { $inc: { attempts: 1 } },
        { returnDocument: 'after' },
      );
      return after?.attempts ?? 0;
    },

    /**
     * This rev's bytes cannot be copied; a stored older rev stays servable, and an older rev that
     * failed too counts no more (a file counts failed once, for its newest rev).
     */
    async markFailed(
      { content, earlierRevs }: Pick<PendingContent, 'content' | 'earlierRevs'>,
      reason: ContentFailureReason,
      message: string,
    ): Promise<void> {
      if (await leavePending({ ...content, state: 'failed', error: { reason, message } }))
        await supersedeEarlierFailed(content, earlierRevs);
    },

    /** The mapping's revs the copy refused as too large. */
    async tooLarge(mappingId: string): Promise<Pick<ContentRecord, '_id' | 'fileRecordId' | 'rev'>[]> {
      const failed = await contents
        .find({ mappingId, state: 'failed' }, { projection: { fileRecordId: 1, rev: 1, error: 1 } })
        .toArray();
      return failed.filter((c) => c.error?.reason === 'too_large').map(({ _id, fileRecordId, rev }) => ({ _id, fileRecordId, rev }));
    },

    /**
     * Revs refused as too large, to copy after all (MAX_FILE_BYTES was raised); how many. Each
     * gets a new pending record, stamped so that a batch ending its old one (a copy may be under
     * way) leaves it, before its refusal goes: a crash between them leaves a rev the copy refuses
     * once more and the next call reopens.
     */
    async reopenTooLarge(contentIds: string[], now = new Date()): Promise<number> {
      if (contentIds.length === 0) return 0;
      const refused = (await findByIds(contents, contentIds)).filter(
        (c) => c.state === 'failed' && c.error?.reason === 'too_large',
      );
      for (const { _id, fileRecordId, mappingId, rev, serverModified } of refused) {
        await endedContents.deleteOne({ _id });
        await pendingContents.deleteOne({ _id });
        await pendingContents.insertOne({ _id, fileRecordId, mappingId, rev, serverModified, state: 'pending', reopenedAt: now });
        await contents.deleteOne({ _id, state: 'failed' });
      }
      return refused.length;
    },

    countPending,

    /** The mapping's revs by state: superseded revs count nowhere, deleted files' stored bytes as stored. */
    async counts(mappingId: string): Promise<ContentCounts> {
      const [pending, stored, failed] = await Promise.all([
        countPending(mappingId),
        countInState(mappingId, 'stored'),
        countInState(mappingId, 'failed'),
      ]);
      return { pending, stored, failed };
    },

    /** The record with this Dropbox id in this mapping, deleted or not. */
    async getFile(mappingId: string, dropboxId: string): Promise<FileRecord | null> {
      // By `_id` alone (it names the mapping): FerretDB answers only that filter without reading
      // every document of the collection.
      const file = await files.findOne({ _id: fileRecordId(mappingId, dropboxId) });
      return file?.mappingId === mappingId ? file : null;
    },

    /** The stored bytes in [start, end). */
    openDownload(storedFileId: string, range?: { start: number; end: number }): Readable {
      return uploads.openDownload(storedFileId, range);
    },

    /** GridFS files and chunks of uploads (for tests and checks): ids of files, chunk counts. */
    uploads: () => uploads.all(),

    /** The uploads named for a rev, under way or left by a worker that died (for tests and checks). */
    uploadsOf: (contentId: string): Promise<string[]> => uploads.of(contentId),
  };
}

export type FileContentsRepository = ReturnType<typeof createFileContentsRepository>;
