import { randomUUID } from 'node:crypto';
import type { Readable, Writable } from 'node:stream';
import { type Db, GridFSBucket } from 'mongodb';
import type { ContentRecord, ContentUpload, FileRecord } from '../domain/types';
import { collections } from './collections';

export const CONTENT_BUCKET = 'file_contents';
/**
 * 1 MiB chunks rather than GridFS's 255 KiB: the upload writes one chunk per insert, and on
 * FerretDB each insert is a transaction; a quarter of the inserts moves the same bytes sooner.
 */
const CHUNK_BYTES = 1024 * 1024;

/**
 * The GridFS uploads of revs' bytes (bucket `file_contents`), each named in `content_uploads`
 * from before its first chunk until it is known to hold no bytes but its rev's stored ones: an
 * upload a worker killed mid-file left behind is found there, and deleted once its rev has its
 * outcome (before, it may be an upload under way elsewhere). That collection holds the uploads of
 * the batches under way (100 per copy), so on FerretDB its deletes read those, not every rev.
 */
export function createContentUploads(db: Db) {
  const { contentUploads, contents } = collections(db);
  const bucket = new GridFSBucket(db, { bucketName: CONTENT_BUCKET, chunkSizeBytes: CHUNK_BYTES });
  const gridFiles = db.collection<{ _id: string }>(`${CONTENT_BUCKET}.files`);
  const gridChunks = db.collection<{ files_id: string }>(`${CONTENT_BUCKET}.chunks`);

  /** Deletes an upload's bytes whether or not it finished (GridFS writes its files document last). */
  async function deleteBytes(id: string): Promise<void> {
    await gridChunks.deleteMany({ files_id: id });
    await gridFiles.deleteOne({ _id: id });
  }

  /**
   * Forgets these uploads; their bytes go too, unless they became their rev's stored bytes (the
   * outcomes of their revs, read by the caller). One delete for all: on FerretDB each delete by
   * `files_id` reads every chunk.
   */
  async function drop(uploads: ContentUpload[], outcomes: (Pick<ContentRecord, 'storedFileId'> | null)[]): Promise<void> {
    if (uploads.length === 0) return;
    const doomed = uploads.filter((u, i) => outcomes[i]?.storedFileId !== u._id).map((u) => u._id);
    // Bytes first: a crash between the two leaves names that are deleted again, never bytes no one names.
    if (doomed.length > 0) {
      await gridChunks.deleteMany({ files_id: { $in: doomed } });
      await gridFiles.deleteMany({ _id: { $in: doomed } });
    }
    await contentUploads.deleteMany({ _id: { $in: uploads.map((u) => u._id) } });
  }

  /** The outcomes of these uploads' revs, by `_id` one by one (null for a rev still pending). */
  function outcomesOf(uploads: ContentUpload[]) {
    return Promise.all(uploads.map((u) => contents.findOne({ _id: u.contentId }, { projection: { storedFileId: 1 } })));
  }

  return {
    deleteBytes,

    /** Names an upload for each rev, before their first chunks are written; upload ids by rev. */
    async name(revs: Pick<ContentRecord, '_id' | 'mappingId'>[]): Promise<Map<string, string>> {
      const named = revs.map((rev) => ({ _id: randomUUID(), contentId: rev._id, mappingId: rev.mappingId }));
      if (named.length > 0) await contentUploads.insertMany(named);
      return new Map(named.map((u) => [u.contentId, u._id]));
    },

    open(uploadId: string, content: ContentRecord, file: FileRecord): Writable {
      return bucket.openUploadStreamWithId(uploadId as never, file.name, {
        metadata: { mappingId: content.mappingId, fileRecordId: content.fileRecordId, rev: content.rev },
      });
    },

    /**
     * Forgets these names (of uploads that hold no bytes, or their rev's stored ones); then the
     * mapping's uploads on revs that have their outcome go.
     */
    async settleMapping(mappingId: string, done: string[]): Promise<void> {
      if (done.length > 0) await contentUploads.deleteMany({ _id: { $in: done } });
      // Usually none are left: only uploads under way elsewhere, cut off, or left by a worker that died.
      const left = await contentUploads.find({ mappingId }).toArray();
      const outcomes = await outcomesOf(left);
      const ended = (_: unknown, i: number) => outcomes[i] !== null;
      await drop(left.filter(ended), outcomes.filter(ended));
    },

    /** Once nothing copies for the mapping: every upload left on its revs; how many. */
    async release(mappingId: string): Promise<number> {
      const left = await contentUploads.find({ mappingId }).toArray();
      await drop(left, await outcomesOf(left));
      return left.length;
    },

    /** The uploads named for a rev (for tests and checks). */
    async of(contentId: string): Promise<string[]> {
      return (await contentUploads.find({ contentId }).toArray()).map((u) => u._id);
    },

    /** The stored bytes in [start, end). */
    openDownload(storedFileId: string, range?: { start: number; end: number }): Readable {
      return bucket.openDownloadStream(storedFileId as never, range ?? {});
    },

    /** GridFS files and chunks of uploads (for tests and checks): ids of files, chunk counts. */
    async all(): Promise<{ files: string[]; chunkFileIds: string[] }> {
      const [f, c] = await Promise.all([
        gridFiles.find({}, { projection: { _id: 1 } }).toArray(),
        gridChunks.distinct('files_id'),
      ]);
      return { files: f.map((x) => x._id), chunkFileIds: c as string[] };
    },
  };
}

export type ContentUploads = ReturnType<typeof createContentUploads>;
