import type { ListingPageRef } from '../domain/types';
import type { ActivityDeps } from './deps';
import { filesRejected } from '../metrics';
import { withHeartbeats } from './heartbeat';
import { requireKeptPage } from './listingPage';

export interface RejectInput {
  mappingId: string;
  projectId: string;
  /** The page `listFolder` kept. */
  page: ListingPageRef;
  /** The listing's generation, stamped on what it refuses (see `persistNewFiles`' sweep). */
  listingGeneration: number;
  /** A page of a full listing (absent: false); see `PersistInput.fullListing`. */
  fullListing?: boolean;
  /** A page of a new mapping's first listing: nothing was recorded before it. */
  firstListing?: boolean;
}

export interface RejectResult {
  /** Ids of the files not to transfer. */
  rejectedFileIds: string[];
  skippedFolders: number;
}

/**
 * Applies the special-character policy to a page's file names and records each refusal with its
 * characters; records every subfolder as skipped, with the hint to map it on its own.
 */
export function createRejectSpecialCharacterPaths(deps: ActivityDeps) {
  return async function rejectSpecialCharacterPaths(input: RejectInput): Promise<RejectResult> {
    return withHeartbeats(() => reject(input));
  };

  /**
   * What the page's entries took the place of (Dropbox reports only the new item at a path): the
   * rejections of other items at their paths, and, outside a full listing (whose sweep settles
   * it), a file recorded at a path a folder now holds. Files accepted at a path of another file
   * are settled by `persistNewFiles`.
   */
  async function dropReplaced(
    input: RejectInput,
    files: { id: string; pathLower: string }[],
    folders: { id: string; pathLower: string }[],
    listedAt: Date,
    now: Date,
  ): Promise<void> {
    await deps.repos.rejections.removeReplacedAtPaths(input.mappingId, [...files, ...folders], listedAt);
    if (!input.fullListing && folders.length > 0) await deps.repos.files.markReplacedAtPaths(input.mappingId, folders, now);
  }

  async function reject(input: RejectInput): Promise<RejectResult> {
    const mapping = { id: input.mappingId, projectId: input.projectId };
    const { files, folders, listedAt } = await requireKeptPage(deps, input.mappingId, input.page);
    const now = (deps.now ?? (() => new Date()))();
    const rejected = files
      .map(({ id, name, pathDisplay, pathLower }) => ({
        id,
        name,
        pathDisplay,
        pathLower,
        characters: deps.pathPolicy.offendingCharacters(name),
      }))
      .filter((f) => f.characters.length > 0);
    // Counted once per file refused: a page checked again (a retry, a relisting) adds none.
    if (rejected.length > 0) {
      const added = await deps.repos.rejections.recordSpecialCharacters(mapping, rejected, input.listingGeneration, now);
      filesRejected.inc({ reason: 'special_characters' }, added);
    }
    if (folders.length > 0)
      await deps.repos.rejections.recordSkippedFolders(mapping, folders, input.listingGeneration, now);
    if (!input.firstListing) await dropReplaced(input, files, folders, listedAt, now);
    return { rejectedFileIds: rejected.map((f) => f.id), skippedFolders: folders.length };
  }
}
