import type { ListedFile, ListingPageRef } from '../domain/types';
import type { ActivityDeps } from './deps';
import { countRecordedFiles } from '../metrics';
import { contentRecordId } from '../db/filePlan';
import { DEFAULT_MAX_FILE_BYTES } from '../domain/contentLimits';
import { withHeartbeats } from './heartbeat';
import { pageToRecord } from './listingPage';
import { mappingLog } from './mappingLog';

export interface PersistInput {
  mappingId: string;
  projectId: string;
  /** The page `listFolder` kept. Absent for a sweep alone. */
  page?: ListingPageRef;
  /**
   * The last page of the cycle's listing: the mapping's kept pages are dropped once it is recorded.
   * Earlier pages stay in their slots until the listing overwrites them, which spares one delete
   * per page (on FerretDB each write holds up the next page's inserts).
   */
  endsListing?: boolean;
  /** Files of the kept page that `rejectSpecialCharacterPaths` refused. */
  rejectedFileIds?: string[];
  listingGeneration: number;
  /** The last page of a full listing: files that listing did not see are gone. */
  sweep: boolean;
  /**
   * A page of a full listing (absent: false). Its sweep marks deleted every record the listing
   * did not see, replaced files included, so the page skips the per-path check for them: on
   * FerretDB that check scans every file record of every mapping, once per page.
   */
  fullListing?: boolean;
  /**
   * A page of a new mapping's first listing: no record or rejection predates it, so there is no
   * earlier rejection of an accepted file to remove (one delete fewer per page between inserts).
   */
  firstListing?: boolean;
}

export interface PersistResult {
  added: number;
  updated: number;
  unchanged: number;
  deleted: number;
  /** Revs once too large whose bytes are now to copy (MAX_FILE_BYTES was raised). */
  reopened?: number;
}

/**
 * Records a page's files in bulk. Idempotent: a retried or replayed page changes nothing, and a
 * record keeps the newest rev. Deletions go first so that a rename inside one page (old path
 * deleted, same id at a new path) ends as one live record at the new path; then the page's files
 * are recorded, and each replaces whatever other file was recorded at its path (deleted and
 * uploaded again, or another file renamed into its place: Dropbox reports only the new file).
 */
export function createPersistNewFiles(deps: ActivityDeps) {
  return async function persistNewFiles(input: PersistInput): Promise<PersistResult> {
    return withHeartbeats(async () => {
      const startedAt = (deps.now ?? (() => new Date()))();
      const { result, listedAt } = await record(input);
      countRecordedFiles(result);
      if (result.added + result.updated + result.deleted > 0) mappingLog(deps.log, input.mappingId).info('files recorded', { ...result });
      // This listing's pages: listed by its last page (or, without one, before this attempt began).
      if (input.endsListing) await deps.repos.listingPages.dropAll(input.mappingId, listedAt ?? startedAt);
      return result;
    });
  };

  async function record(input: PersistInput): Promise<{ result: PersistResult; listedAt?: Date }> {
    if (!input.page) return { result: await persist(input, [], []) };
    const page = await pageToRecord(deps, input.mappingId, input.page);
    // The listing's last page, recorded by an attempt whose completion was lost: its counts went with it.
    if (!page) return { result: input.sweep ? await persist(input, [], []) : { added: 0, updated: 0, unchanged: 0, deleted: 0 } };
    const rejected = new Set(input.rejectedFileIds ?? []);
    const accepted = rejected.size > 0 ? page.files.filter((f) => !rejected.has(f.id)) : page.files;
    return { result: await persist(input, accepted, page.deletedPaths, page.listedAt), listedAt: page.listedAt };
  }

  /**
   * `listedAt`: when the kept page was listed. The checks of the pages after it may already have
   * run; the rejections they recorded are newer than it and stay. Both times come from worker
   * clocks: the next page's check starts a listing round trip after `listedAt`, which is the
   * margin for skew between workers.
   */
  async function persist(
    input: PersistInput,
    listed: ListedFile[],
    deletedPaths: string[],
    listedAt?: Date,
  ): Promise<PersistResult> {
    const { files, rejections } = deps.repos;
    const now = (deps.now ?? (() => new Date()))();
    let deleted = 0;
    if (deletedPaths.length > 0) {
      deleted += await files.markDeletedByPaths(input.mappingId, deletedPaths, now);
      await rejections.removeByPaths(input.mappingId, deletedPaths, listedAt);
    }
    const counts =
      listed.length > 0
        ? await files.upsertListedFiles({ id: input.mappingId, projectId: input.projectId }, listed, input.listingGeneration, now)
        : { added: 0, updated: 0, unchanged: 0 };
    // After the upsert, so a new file is readable without waiting for this check (on FerretDB a
    // scan of every file record); the file it replaces shows beside it until the next write.
    if (listed.length > 0 && !input.fullListing) {
      deleted += await files.markReplacedAtPaths(input.mappingId, listed, now);
    }
    // A file once rejected and since renamed to an acceptable name is no longer a rejection.
    if (listed.length > 0 && !input.firstListing) {
      await rejections.removeByIds(input.mappingId, listed.map((f) => f.id), listedAt);
    }
    let reopened = 0;
    if (input.sweep) {
      deleted += await files.sweepUnseen(input.mappingId, input.listingGeneration, now);
      reopened = await sweepRejections(input.mappingId, input.listingGeneration);
    }
    return { ...counts, deleted, ...(reopened > 0 ? { reopened } : {}) };
  }

  /**
   * Rejections the full listing did not see go. Files too large are decided again from what the
   * copy refused (a listing removes the rejection of every file it lists): a live file's current rev
   * that still exceeds MAX_FILE_BYTES is a rejection, one that fits now (the limit was raised: a new
   * listing policy relists) is reopened for copying, and a gone file takes its rejection with it.
   * Returns how many revs were reopened.
   */
  async function sweepRejections(mappingId: string, listingGeneration: number): Promise<number> {
    const { files, rejections, contents } = deps.repos;
    await rejections.sweepUnseen(mappingId, listingGeneration);
    const [refused, rejected] = await Promise.all([contents.tooLarge(mappingId), rejections.tooLargeIds(mappingId)]);
    if (refused.length === 0 && rejected.length === 0) return 0;
    const live = await files.liveRecords([...new Set(refused.map((c) => c.fileRecordId))]);
    const refusedRevs = new Set(refused.map((c) => c._id));
    const current = live.filter((f) => refusedRevs.has(contentRecordId(f._id, f.rev)));
    const maxFileBytes = deps.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
    const stillTooLarge = current.filter((f) => f.size > maxFileBytes);
    const now = (deps.now ?? (() => new Date()))();
    for (const file of stillTooLarge) await rejections.recordTooLarge(file, maxFileBytes, now);
    const keep = new Set(stillTooLarge.map((f) => f.dropboxId));
    await rejections.removeByIds(
      mappingId,
      rejected.filter((id) => !keep.has(id)),
    );
    return contents.reopenTooLarge(current.filter((f) => f.size <= maxFileBytes).map((f) => contentRecordId(f._id, f.rev)));
  }
}
