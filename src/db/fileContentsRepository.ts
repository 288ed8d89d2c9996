import { randomUUID } from 'node:crypto';
import type { Readable, Writable } from 'node:stream';
import { type Db, GridFSBucket, MongoBulkWriteError } from 'mongodb';
import { atFirstRev } from '../domain/contentRevs';
import type { ContentFailureReason, ContentRecord, FileRecord } from '../domain/types';
import { findByIds } from './byIds';
import { collections } from './collections';
import { inBatches } from './batches';
import { isDuplicateKeyError } from './errors';
import { contentRecordId, fileRecordId, pendingContent } from './filePlan';

export const CONTENT_BUCKET = 'file_contents';
/** A listing page's worth: one insert command each (on FerretDB, one transaction). */
const PENDING_PER_COMMAND = 2_000;
/**
 * 1 MiB chunks rather than GridFS's 255 KiB: the upload writes one chunk per insert, and on
 * FerretDB each insert is a transaction; a quarter of the inserts moves the same bytes sooner.
 */
const CHUNK_BYTES = 1024 * 1024;
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
 * File contents in GridFS (bucket `file_contents`) and their content records (`contents`, one per
 * file and rev), written by the copy alone: it inserts them from the file records the listing
 * wrote (`recordPendingRevs`), then updates them.
 * A rev counts as stored only after its upload finished and matched the content hash, by a
 * conditional update that names the upload (`uploadingId`): an upload of a worker that died, or
 * of a superseded attempt, never becomes stored, and is deleted when its rev is claimed again or
 * leaves the copy's work (stored, superseded, failed).
 * (No projections on findOneAndUpdate: FerretDB 1.24 does not implement them.)
 */
export function createFileContentsRepository(db: Db) {
  const { files, contents } = collections(db);
  const bucket = new GridFSBucket(db, { bucketName: CONTENT_BUCKET, chunkSizeBytes: CHUNK_BYTES });
  const gridFiles = db.collection<{ _id: string }>(`${CONTENT_BUCKET}.files`);
  const gridChunks = db.collection<{ files_id: string }>(`${CONTENT_BUCKET}.chunks`);

  /** Deletes an upload whether or not it finished (GridFS writes its files document last). */
  async function deleteUpload(id: string): Promise<void> {
    await gridChunks.deleteMany({ files_id: id });
    await gridFiles.deleteOne({ _id: id });
  }

  /**
   * A pending rev leaves the copy's work; an upload left on it (a worker killed mid-file) goes
   * too. Uploads left on revs still pending are deleted by the claim that starts their next one.
   */
  async function leavePending(
    contentId: string,
    fields: Pick<ContentRecord, 'state' | 'error'>,
  ): Promise<void> {
    const before = await contents.findOneAndUpdate(
      { _id: contentId, state: 'pending' },
      { $set: fields, $unset: { uploadingId: '' } },
      { returnDocument: 'before' },
    );
    if (before?.uploadingId) await deleteUpload(before.uploadingId);
  }

  /** The file has moved past a rev that failed: the status counts it failed no more. */
  async function supersedeEarlierFailed(content: ContentRecord, earlierRevs: ContentRecord[]): Promise<void> {
    for (const other of earlierRevs) {
      if (other.state === 'failed' && other.serverModified <= content.serverModified)
        await contents.updateOne({ _id: other._id, state: 'failed' }, { $set: { state: 'superseded' } });
    }
  }

  function countInState(mappingId: string, state: ContentRecord['state']): Promise<number> {
    return contents.countDocuments({ mappingId, state });
  }

  /** Per file record: the content record of its rev, and its newest stored one. */
  async function contentOf(records: Pick<FileRecord, '_id' | 'rev'>[]): Promise<Map<string, FileContent>> {
    const found =
      records.length === 0
        ? []
        : await contents.find({ fileRecordId: { $in: records.map((r) => r._id) } }).toArray();
    const shown = new Map<string, FileContent>(records.map((r) => [r._id, { current: null, stored: null }]));
    const revOf = new Map(records.map((r) => [r._id, r.rev]));
    for (const content of found) {
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
    deleteUpload,
    contentOf,

    /**
     * `contentOf` for one record, read by `_id` alone where it can be (on FerretDB that does not
     * decode every content record as `contentOf` does): a stored current rev is the newest stored
     * one, and a file at its first rev has no other (`atFirstRev`).
     */
    async contentOfFile(record: Pick<FileRecord, '_id' | 'rev' | 'firstRev'>): Promise<FileContent> {
      const current = await contents.findOne({ _id: contentRecordId(record._id, record.rev) });
      if (current?.state === 'stored') return { current, stored: current };
      if (atFirstRev(record)) return { current, stored: null };
      return (await contentOf([record])).get(record._id) ?? NO_CONTENT;
    },

    /**
     * Gives each file record updated since `since` a content record for its rev, pending, unless
     * it has one; returns how many were new. A file deleted since it was recorded gets one too:
     * its bytes stay downloadable by rev, and the deleted file's record offers them. The copy does
     * this, not the listing, so a first sync's records are readable after one write per file and
     * contents follow; a rev the file moved past before its copy began is never copied.
     */
    async recordPendingRevs(mappingId: string, since: Date): Promise<number> {
      const recorded = await files
        .find(
          { mappingId, updatedAt: { $gte: since } },
          { projection: { _id: 1, mappingId: 1, rev: 1, serverModified: 1 } },
        )
        .toArray();
      let added = 0;
      // Plain inserts, not upserts (on FerretDB each upsert scans the collection); a rev that has
      // its record already fails its insert alone.
      for (const part of inBatches(recorded.map(pendingContent), PENDING_PER_COMMAND)) {
        try {
          added += (await contents.insertMany(part, { ordered: false })).insertedCount;
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
      const pending = await contents
        .find({ mappingId, state: 'pending', ...after })
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
    async markSuperseded(contentId: string): Promise<void> {
      await leavePending(contentId, { state: 'superseded' });
    },

    /**
     * Names a new upload for this rev; null when it is no longer pending. An earlier upload is
     * deleted. By `_id` alone, the state read from what it replaced: on FerretDB a filter of more
     * fields decodes every content record, and the claim is once per file. A rev that left
     * pending never returns to it, so a name written on one (a claim that raced its end) is
     * never used and is taken off again.
     */
    async claim(contentId: string): Promise<string | null> {
      const uploadId = randomUUID();
      const before = await contents.findOneAndUpdate(
        { _id: contentId },
        { $set: { uploadingId: uploadId } },
        { returnDocument: 'before' },
      );
      if (before?.state !== 'pending') {
        if (before)
          await contents.updateOne(
            { _id: contentId, uploadingId: uploadId },
            { $unset: { uploadingId: '' } },
          );
        return null;
      }
      if (before.uploadingId) await deleteUpload(before.uploadingId);
      return uploadId;
    },

    openUpload(uploadId: string, content: ContentRecord, file: FileRecord): Writable {
      return bucket.openUploadStreamWithId(uploadId as never, file.name, {
        metadata: { mappingId: content.mappingId, fileRecordId: content.fileRecordId, rev: content.rev },
      });
    },

    /**
     * The verified upload becomes this rev's content, and the file's older stored revs are
     * superseded (their bytes kept a while, see `dropReplacedBytes`), as are its older failed revs. False when the upload was
     * superseded (another attempt claimed the rev): the upload is deleted instead.
     */
    async markStored(
      { content, earlierRevs }: Pick<PendingContent, 'content' | 'earlierRevs'>,
      uploadId: string,
      hash: string,
      size: number,
      now = new Date(),
    ): Promise<boolean> {
      const stored = await contents.findOneAndUpdate(
        { _id: content._id, state: 'pending', uploadingId: uploadId },
        {
          $set: {
            state: 'stored',
            storedHash: hash,
            storedSize: size,
            storedFileId: uploadId,
            uploadingId: null,
            error: null,
          },
        },
        { returnDocument: 'after' },
      );
      if (!stored) {
        await deleteUpload(uploadId);
        return false;
      }
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
     * Once nothing copies for the mapping (unmapped): uploads left on its pending revs by a worker
     * killed mid-file are deleted, which otherwise only the rev's next claim would do.
     */
    async releaseUploads(mappingId: string): Promise<number> {
      const left = await contents.find({ mappingId, state: 'pending', uploadingId: { $ne: null } }).toArray();
      for (const rev of left) {
        await deleteUpload(rev.uploadingId!);
        await contents.updateOne({ _id: rev._id, uploadingId: rev.uploadingId }, { $unset: { uploadingId: '' } });
      }
      return left.length;
    },

    /** Deletes the bytes of the mapping's revs replaced before `before`; returns how many. */
    async dropReplacedBytes(mappingId: string, before: Date): Promise<number> {
      const replaced = await contents
        .find({ mappingId, state: 'superseded', storedFileId: { $ne: null }, supersededAt: { $lt: before } })
        .toArray();
      for (const rev of replaced) {
        // Bytes first: a crash between the two leaves a name the next call deletes again, never bytes no record names.
        await deleteUpload(rev.storedFileId!);
        await contents.updateOne({ _id: rev._id, storedFileId: rev.storedFileId }, { $set: { storedFileId: null } });
      }
      return replaced.length;
    },

    /**
     * Drops an upload that did not verify (or was cut off), unless it is the rev's stored bytes.
     * The claim keeps naming it: a chunk the cut-off stream was still writing can land after this
     * delete, and the rev's next claim (or its leaving the copy's work) deletes the upload again.
     */
    async abandonUpload(contentId: string, uploadId: string): Promise<void> {
      const record = await contents.findOne({ _id: contentId });
      if (record?.storedFileId === uploadId) return;
      await deleteUpload(uploadId);
    },

    /** Counts a download of this rev that did not match its hash; returns how many so far. */
    async countMismatch(contentId: string): Promise<number> {
      const after = await contents.findOneAndUpdate(
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
      await leavePending(content._id, { state: 'failed', error: { reason, message } });
      await supersedeEarlierFailed(content, earlierRevs);
    },

    /** The mapping's revs the copy refused as too large. */
    async tooLarge(mappingId: string): Promise<Pick<ContentRecord, '_id' | 'fileRecordId' | 'rev'>[]> {
      const failed = await contents
        .find({ mappingId, state: 'failed' }, { projection: { fileRecordId: 1, rev: 1, error: 1 } })
        .toArray();
      return failed.filter((c) => c.error?.reason === 'too_large').map(({ _id, fileRecordId, rev }) => ({ _id, fileRecordId, rev }));
    },

    /** Revs refused as too large, to copy after all (MAX_FILE_BYTES was raised); how many. */
    async reopenTooLarge(contentIds: string[]): Promise<number> {
      if (contentIds.length === 0) return 0;
      const result = await contents.updateMany(
        { _id: { $in: contentIds }, state: 'failed', 'error.reason': 'too_large' },
        { $set: { state: 'pending', error: null } },
      );
      return result.modifiedCount;
    },

    /** Revs of the mapping still to copy. */
    countPending: (mappingId: string): Promise<number> => countInState(mappingId, 'pending'),

    /** The mapping's revs by state: superseded revs count nowhere, deleted files' stored bytes as stored. */
    async counts(mappingId: string): Promise<ContentCounts> {
      const [pending, stored, failed] = await Promise.all([
        countInState(mappingId, 'pending'),
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
      return bucket.openDownloadStream(storedFileId as never, range ?? {});
    },

    /** GridFS files and chunks of uploads (for tests and checks): ids of files, chunk counts. */
    async uploads(): Promise<{ files: string[]; chunkFileIds: string[] }> {
      const [f, c] = await Promise.all([
        gridFiles.find({}, { projection: { _id: 1 } }).toArray(),
        gridChunks.distinct('files_id'),
      ]);
      return { files: f.map((x) => x._id), chunkFileIds: c as string[] };
    },
  };
}

export type FileContentsRepository = ReturnType<typeof createFileContentsRepository>;
