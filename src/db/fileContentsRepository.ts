import { randomUUID } from 'node:crypto';
import type { Readable, Writable } from 'node:stream';
import { type Db, GridFSBucket } from 'mongodb';
import type { ContentFailureReason, ContentState, FileRecord } from '../domain/types';
import { collections } from './collections';

export const CONTENT_BUCKET = 'file_contents';
/**
 * 1 MiB chunks rather than GridFS's 255 KiB: the upload writes one chunk per insert, and on
 * FerretDB each insert is a transaction; a quarter of the inserts moves the same bytes sooner.
 */
const CHUNK_BYTES = 1024 * 1024;

/** A file whose bytes are still to be copied: what the copy needs of its record. */
export type PendingContent = Pick<
  FileRecord,
  | '_id'
  | 'mappingId'
  | 'projectId'
  | 'dropboxId'
  | 'name'
  | 'path'
  | 'pathLower'
  | 'size'
  | 'rev'
  | 'contentHash'
  | 'contentAttempts'
>;

const PENDING_PROJECTION = {
  _id: 1,
  mappingId: 1,
  projectId: 1,
  dropboxId: 1,
  name: 1,
  path: 1,
  pathLower: 1,
  size: 1,
  rev: 1,
  contentHash: 1,
  contentAttempts: 1,
} as const;

/** Records from before contents were copied have no state: they are pending too. */
const notSettled = { contentState: { $nin: ['stored', 'failed'] as ContentState[] } };

export interface ContentCounts {
  pending: number;
  stored: number;
  failed: number;
}

/**
 * File contents in GridFS (bucket `file_contents`) and the content fields of file records. A
 * record counts as stored only after its upload finished and matched the content hash, by a
 * conditional update that names the upload (`uploadingId`): an upload of a worker that died, of
 * a superseded attempt, or of a rev since replaced, never becomes stored and is deleted.
 * (No projections on findOneAndUpdate: FerretDB 1.24 does not implement them.)
 */
export function createFileContentsRepository(db: Db) {
  const { files } = collections(db);
  const bucket = new GridFSBucket(db, { bucketName: CONTENT_BUCKET, chunkSizeBytes: CHUNK_BYTES });
  const gridFiles = db.collection<{ _id: string }>(`${CONTENT_BUCKET}.files`);
  const gridChunks = db.collection<{ files_id: string }>(`${CONTENT_BUCKET}.chunks`);

  /** Deletes an upload whether or not it finished (GridFS writes its files document last). */
  async function deleteUpload(id: string): Promise<void> {
    await gridChunks.deleteMany({ files_id: id });
    await gridFiles.deleteOne({ _id: id });
  }

  return {
    deleteUpload,

    /** Live records of the mapping whose bytes are to be copied, by id, after `afterId`. */
    async listPending(mappingId: string, limit: number, afterId?: string): Promise<PendingContent[]> {
      const after = afterId === undefined ? {} : { _id: { $gt: afterId } };
      return files
        .find({ mappingId, deletedAt: null, ...notSettled, ...after }, { projection: PENDING_PROJECTION })
        .sort({ _id: 1 })
        .limit(limit)
        .toArray() as Promise<PendingContent[]>;
    },

    /**
     * Uploads left behind (a worker killed mid-file, an attempt that timed out) are deleted and
     * forgotten. Run when a copy starts: no other copy of the mapping is under way then, and one
     * still running somewhere unnoticed cannot store what it uploads (its upload id is gone).
     */
    async dropStaleUploads(mappingId: string): Promise<number> {
      const stale = await files
        .find({ mappingId, uploadingId: { $ne: null } }, { projection: { _id: 1, uploadingId: 1 } })
        .toArray();
      for (const record of stale) {
        await files.updateOne(
          { _id: record._id, uploadingId: record.uploadingId },
          { $set: { uploadingId: null } },
        );
        if (record.uploadingId) await deleteUpload(record.uploadingId);
      }
      return stale.length;
    },

    /**
     * Names a new upload for this rev of the record; null when the record moved on (new rev,
     * deleted). An upload the record named before is deleted.
     */
    async claim(recordId: string, rev: string): Promise<string | null> {
      const uploadId = randomUUID();
      const before = await files.findOneAndUpdate(
        { _id: recordId, rev, deletedAt: null },
        { $set: { uploadingId: uploadId } },
        { returnDocument: 'before' },
      );
      if (!before) return null;
      if (before.uploadingId) await deleteUpload(before.uploadingId);
      return uploadId;
    },

    openUpload(uploadId: string, record: PendingContent): Writable {
      return bucket.openUploadStreamWithId(uploadId as never, record.name, {
        metadata: { mappingId: record.mappingId, fileRecordId: record._id, rev: record.rev },
      });
    },

    /**
     * The verified upload becomes the record's content; the content it replaces is deleted.
     * False when the upload was superseded (the record moved on, or another attempt claimed it):
     * the upload is deleted instead.
     */
    async markStored(
      recordId: string,
      rev: string,
      uploadId: string,
      hash: string,
      size: number,
    ): Promise<boolean> {
      const before = await files.findOneAndUpdate(
        { _id: recordId, rev, uploadingId: uploadId },
        {
          $set: {
            contentState: 'stored',
            storedRev: rev,
            storedHash: hash,
            storedSize: size,
            storedFileId: uploadId,
            uploadingId: null,
            contentError: null,
          },
        },
        { returnDocument: 'before' },
      );
      if (!before) {
        await deleteUpload(uploadId);
        return false;
      }
      if (before.storedFileId && before.storedFileId !== uploadId) await deleteUpload(before.storedFileId);
      return true;
    },

    /** Drops an upload that did not verify (or was abandoned) and releases the record's claim on it. */
    async abandonUpload(recordId: string, uploadId: string): Promise<void> {
      await files.updateOne({ _id: recordId, uploadingId: uploadId }, { $set: { uploadingId: null } });
      await deleteUpload(uploadId);
    },

    /** Counts a download of this rev that did not match its hash; returns how many so far. */
    async countMismatch(recordId: string, rev: string): Promise<number> {
      const after = await files.findOneAndUpdate(
        { _id: recordId, rev },
        { $inc: { contentAttempts: 1 } },
        { returnDocument: 'after' },
      );
      return after?.contentAttempts ?? 0;
    },

    /** This rev's bytes cannot be copied; a stored older rev stays servable. */
    async markFailed(
      recordId: string,
      rev: string,
      reason: ContentFailureReason,
      message: string,
    ): Promise<void> {
      await files.updateOne(
        { _id: recordId, rev },
        { $set: { contentState: 'failed', contentError: { reason, message } } },
      );
    },

    async counts(mappingId: string): Promise<ContentCounts> {
      const live = { mappingId, deletedAt: null };
      const [pending, stored, failed] = await Promise.all([
        files.countDocuments({ ...live, ...notSettled }),
        files.countDocuments({ ...live, contentState: 'stored' }),
        files.countDocuments({ ...live, contentState: 'failed' }),
      ]);
      return { pending, stored, failed };
    },

    /** The record with this Dropbox id in this mapping, deleted or not. */
    async getFile(mappingId: string, dropboxId: string): Promise<FileRecord | null> {
      return files.findOne({ _id: `${mappingId}:${dropboxId}`, mappingId });
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
