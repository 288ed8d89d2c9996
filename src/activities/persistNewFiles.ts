import type { ListedFile } from '../domain/types';
import type { ActivityDeps } from './deps';
import { withHeartbeats } from './heartbeat';

export interface PersistInput {
  mappingId: string;
  projectId: string;
  files: ListedFile[];
  deletedPaths: string[];
  listingGeneration: number;
  /** The last page of a full listing: files that listing did not see are gone. */
  sweep: boolean;
  /**
   * A page of a full listing (absent: false). Its sweep marks deleted every record the listing
   * did not see, replaced files included, so the page skips the per-path check for them: on
   * FerretDB that check scans every file record of every mapping, once per page.
   */
  fullListing?: boolean;
}

export interface PersistResult {
  added: number;
  updated: number;
  unchanged: number;
  deleted: number;
}

/**
 * Records a page's files in bulk. Idempotent: a retried or replayed page changes nothing, and a
 * record keeps the newest rev. Deletions go first so that a rename inside one page (old path
 * deleted, same id at a new path) ends as one live record at the new path; then a file listed at
 * a path replaces whatever other file was recorded there (deleted and uploaded again, or another
 * file renamed into its place: Dropbox reports only the new file).
 */
export function createPersistNewFiles(deps: ActivityDeps) {
  return async function persistNewFiles(input: PersistInput): Promise<PersistResult> {
    return withHeartbeats(() => persist(input));
  };

  async function persist(input: PersistInput): Promise<PersistResult> {
    const { files, rejections } = deps.repos;
    const now = (deps.now ?? (() => new Date()))();
    let deleted = 0;
    if (input.deletedPaths.length > 0) {
      deleted += await files.markDeletedByPaths(input.mappingId, input.deletedPaths, now);
      await rejections.removeByPaths(input.mappingId, input.deletedPaths);
    }
    if (input.files.length > 0 && !input.fullListing) {
      deleted += await files.markReplacedAtPaths(input.mappingId, input.files, now);
    }
    const counts =
      input.files.length > 0
        ? await files.upsertListedFiles(
            { id: input.mappingId, projectId: input.projectId },
            input.files,
            input.listingGeneration,
            now,
          )
        : { added: 0, updated: 0, unchanged: 0 };
    // A file once rejected and since renamed to an acceptable name is no longer a rejection.
    if (input.files.length > 0) await rejections.removeByIds(input.mappingId, input.files.map((f) => f.id));
    if (input.sweep) deleted += await files.sweepUnseen(input.mappingId, input.listingGeneration, now);
    return { ...counts, deleted };
  }
}
