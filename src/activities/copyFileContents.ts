import { pipeline } from 'node:stream/promises';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { REPLACED_BYTES_KEPT_MS, type PendingContent } from '../db/fileContentsRepository';
import type { DropboxCredentials } from '../dropbox/client';
import { ContentHasher } from '../dropbox/contentHasher';
import { DropboxCredentialsError, DropboxPathError, DropboxRateLimitError, DropboxUnsupportedFileError } from '../dropbox/errors';
import { DEFAULT_CONTENT_CONCURRENCY, DEFAULT_MAX_FILE_BYTES } from '../domain/contentLimits';
import type { ContentSlots } from './contentSlots';
import type { ActivityDeps } from './deps';
import { contentCopies, filesRejected } from '../metrics';
import { toActivityFailure } from './failures';
import { mappingLog } from './mappingLog';
import { loadMappingCredentials, type CredentialSources } from './mappingCredentials';

export interface CopyContentsInput {
  mappingId: string;
  /**
   * When the earliest page whose files this copy follows was listed (epoch ms): their records are
   * given content records first (`recordPendingRevs`). Absent when no page was recorded since the
   * last copy began.
   */
  recordedSince?: number;
}

export interface CopyContentsResult {
  stored: number;
  failed: number;
  /** Still to copy when the copy ran out of its time budget: another copy follows at once. */
  pending: number;
  /**
   * The token may not download (no `files.content.read`): the mapping is marked so (its contents
   * show as failed with `missing_scope`) and its files wait, pending, for a token with the scope.
   */
  missingScope: boolean;
}

/** Downloads of one rev that may mismatch its content hash before the file is `failed`. */
export const MAX_HASH_MISMATCHES = 3;
/**
 * New files are started for this long; then the copy returns and the workflow starts the next.
 * It bounds how long a run about to continue as new waits for its copy.
 */
const START_FILES_FOR_MS = 30_000;
const BATCH = 100;
/**
 * A page is listed on one worker and recorded on another, each stamping its own clock: records
 * updated this long before their page's listing time are still looked at.
 */
const CLOCK_SKEW_MARGIN_MS = 5 * 60_000;
const HEARTBEAT_EVERY_MS = 2_000;

type Outcome = 'stored' | 'failed' | 'retry' | 'superseded' | 'unstarted';

/** A batch's uploads, named before it starts (`nameUploads`), by rev; those begun, those stored. */
interface BatchUploads {
  named: Map<string, string>;
  begun: Set<string>;
  stored: Set<string>;
}

/**
 * Copies the bytes of a mapping's pending files (new, or a new rev) into GridFS, each verified
 * against Dropbox's content hash on its way in, and only then marked `stored`. A file whose
 * download mismatched or met an outage stays pending and the activity fails at the end, so
 * Temporal retries it (with backoff); after MAX_HASH_MISMATCHES mismatches the file is `failed`.
 * Heartbeats carry progress; a cancellation (pause, unmap) aborts the downloads in flight.
 */
export function createCopyFileContents(
  deps: ActivityDeps,
  { mappings }: CredentialSources,
  slots: ContentSlots,
) {
  const { contents, rejections, mappings: mappingRecords } = deps.repos;
  const maxFileBytes = deps.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  const now = () => (deps.now ?? (() => new Date()))();

  return async function copyFileContents({ mappingId, recordedSince }: CopyContentsInput): Promise<CopyContentsResult> {
    const context = activityContext();
    const progress = { stored: 0, failed: 0, bytes: 0 };
    const beat = context ? setInterval(() => context.heartbeat(progress), HEARTBEAT_EVERY_MS) : undefined;
    try {
      // Before the credentials: files whose bytes wait for a token still show in the counts.
      if (recordedSince !== undefined)
        await contents.recordPendingRevs(mappingId, new Date(recordedSince - CLOCK_SKEW_MARGIN_MS));
      return await copyPending(mappingId, context?.cancellationSignal, progress);
    } finally {
      if (beat) clearInterval(beat);
    }
  };

  async function copyPending(
    mappingId: string,
    signal: AbortSignal | undefined,
    progress: { stored: number; failed: number; bytes: number },
  ): Promise<CopyContentsResult> {
    const { credentials } = await loadMappingCredentials(deps, mappings, mappingId);
    await contents.dropReplacedBytes(mappingId, new Date(now().getTime() - REPLACED_BYTES_KEPT_MS));
    // What a copy that died mid-batch left: revs with their outcome still listed as pending.
    await contents.endBatch(mappingId, []);
    if ((await mappingRecords.getById(mappingId))?.contentScopeMissing) {
      // A replaced token may have the scope now: one Dropbox call tells.
      if (!(await hasContentScope(credentials)))
        return { stored: 0, failed: 0, pending: 0, missingScope: true };
      await mappingRecords.setContentScopeMissing(mappingId, false);
    }
    let outOfTime = false;
    // A file still waiting for a download slot when the time is up is left for the next copy.
    const budget = AbortSignal.timeout(START_FILES_FOR_MS);
    const turnSignal = signal ? AbortSignal.any([signal, budget]) : budget;
    let retryLater = 0;
    // What ends the copy early: a cancellation, credentials, a rate limit (retried after its wait).
    let stop: unknown;
    let after: string | undefined;
    let more = true;
    while (stop === undefined && !outOfTime && more) {
      const batch = await contents.listPending(mappingId, BATCH, after);
      if (batch.length === 0) break;
      // A short batch is the last one: not asking again saves a read of the collection per copy,
      // and revs listed meanwhile are the next copy's (the cycle that lists them asks for one).
      more = batch.length === BATCH;
      after = batch[batch.length - 1]?.content._id;
      const queue = [...batch];
      const uploads: BatchUploads = {
        named: await contents.nameUploads(batch.map((p) => p.content)),
        begun: new Set(),
        stored: new Set(),
      };
      const runner = async () => {
        while (stop === undefined) {
          if (budget.aborted) {
            outOfTime = true;
            return;
          }
          const current = queue.shift();
          if (!current) return;
          let started = false;
          const outcome = await slots
            .run(() => {
              started = true;
              return copyOne(current, credentials, progress, uploads, signal);
            }, turnSignal)
            .catch((err: unknown) => {
              if (!started && budget.aborted && !signal?.aborted) {
                outOfTime = true;
                return 'unstarted' as const;
              }
              stop ??= err;
              return 'stopped' as const;
            });
          if (outcome === 'stored' || outcome === 'failed') {
            progress[outcome] += 1;
            contentCopies.inc({ outcome });
          }
          if (outcome === 'retry') {
            retryLater += 1;
            contentCopies.inc({ outcome: 'retried' });
          }
        }
      };
      await Promise.all(
        Array.from({ length: deps.contentConcurrency ?? DEFAULT_CONTENT_CONCURRENCY }, runner),
      );
      // An upload begun and not stored stays named: a chunk of a cut-off stream may land later.
      const done = [...uploads.named.values()].filter((id) => !uploads.begun.has(id) || uploads.stored.has(id));
      await contents.endBatch(mappingId, done);
    }
    if (stop instanceof DropboxCredentialsError && stop.problem === 'missing_scope') {
      await mappingRecords.setContentScopeMissing(mappingId, true);
      return { stored: progress.stored, failed: progress.failed, pending: 0, missingScope: true };
    }
    if (stop !== undefined) throw toActivityFailure(stop);
    if (retryLater > 0) {
      throw ApplicationFailure.create({
        message: `${retryLater} file(s) of mapping ${mappingId} did not download intact; they are tried again`,
        type: 'ContentsIncomplete',
      });
    }
    const pending = outOfTime ? await contents.countPending(mappingId) : 0;
    return { stored: progress.stored, failed: progress.failed, pending, missingScope: false };
  }

  async function hasContentScope(credentials: DropboxCredentials): Promise<boolean> {
    try {
      await deps.dropbox.checkFileContentScope(credentials);
      return true;
    } catch (err) {
      if (err instanceof DropboxCredentialsError && err.problem === 'missing_scope') return false;
      throw toActivityFailure(err);
    }
  }

  async function copyOne(
    pending: PendingContent,
    credentials: DropboxCredentials,
    progress: { bytes: number },
    uploads: BatchUploads,
    signal: AbortSignal | undefined,
  ): Promise<Outcome> {
    const { content, file } = pending;
    // The file moved on to a later rev (its record is written before its rev's content record).
    if (!file || file.rev !== content.rev) {
      await contents.markSuperseded(content);
      return 'superseded';
    }
    if (file.size > maxFileBytes) {
      // A rejection is of a file in the folder: one deleted since it was listed gets none.
      if (!file.deletedAt) {
        filesRejected.inc({ reason: 'too_large' }, await rejections.recordTooLarge({ ...file }, maxFileBytes, now()));
      }
      await contents.markFailed(
        pending,
        'too_large',
        `Larger than MAX_FILE_BYTES (${maxFileBytes} bytes)`,
      );
      return 'failed';
    }
    const uploadId = uploads.named.get(content._id)!;
    uploads.begun.add(uploadId);
    // Only the download is undone on failure: once markStored has begun, the upload may already
    // be the rev's stored bytes, and a later failure (superseding an older rev) must not delete it.
    let verified: { hash: string; bytes: number } | undefined;
    try {
      // By rev: exactly the version recorded, whatever happened to the file since.
      const { file: downloaded, body } = await deps.dropbox.download(credentials, {
        path: `rev:${content.rev}`,
        ...(signal ? { signal } : {}),
      });
      const hasher = new ContentHasher();
      hasher.on('data', (chunk: Buffer) => (progress.bytes += chunk.length));
      await pipeline(
        body,
        hasher,
        contents.openUpload(uploadId, content, file),
        ...(signal ? [{ signal }] : []),
      );
      const hash = hasher.digest();
      const expected = file.contentHash ?? downloaded.contentHash;
      if (hash === expected && hasher.bytes === downloaded.size) verified = { hash, bytes: hasher.bytes };
    } catch (err) {
      await contents.abandonUpload(content._id, uploadId).catch(() => undefined);
      if (err instanceof DropboxPathError && err.problem === 'restricted_content') {
        await contents.markFailed(
          pending,
          'restricted',
          'Dropbox blocks the content of this file (a copyright or legal claim): it cannot be transferred',
        );
        return 'failed';
      }
      if (err instanceof DropboxPathError) {
        await contents.markFailed(pending, 'not_found', 'Dropbox no longer has this version of the file');
        return 'failed';
      }
      if (err instanceof DropboxUnsupportedFileError) {
        await contents.markFailed(
          pending,
          'not_downloadable',
          'Dropbox cannot download this kind of file (a Google Docs, Sheets or Slides file, or a Paper doc): export it as a regular file in Dropbox to transfer it',
        );
        return 'failed';
      }
      if (signal?.aborted || err instanceof DropboxCredentialsError || err instanceof DropboxRateLimitError)
        throw err;
      mappingLog(deps.log, file.mappingId).warn('file content download failed', { fileId: file.dropboxId, error: err });
      return 'retry';
    }
    if (verified) {
      if (!(await contents.markStored(pending, uploadId, verified.hash, verified.bytes, now()))) return 'superseded';
      uploads.stored.add(uploadId);
      return 'stored';
    }
    await contents.abandonUpload(content._id, uploadId);
    const mismatches = await contents.countMismatch(content._id);
    mappingLog(deps.log, file.mappingId).warn('file content did not match its hash', { fileId: file.dropboxId, mismatches });
    if (mismatches < MAX_HASH_MISMATCHES) return 'retry';
    await contents.markFailed(pending, 'hash_mismatch', `${mismatches} downloads did not match Dropbox's content hash`);
    return 'failed';
  }
}

function activityContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}
