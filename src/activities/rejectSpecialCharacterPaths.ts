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

  async function reject(input: RejectInput): Promise<RejectResult> {
    const mapping = { id: input.mappingId, projectId: input.projectId };
    const { files, folders } = await requireKeptPage(deps, input.mappingId, input.page);
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
    if (rejected.length > 0)
      await deps.repos.rejections.recordSpecialCharacters(mapping, rejected, input.listingGeneration, now);
    filesRejected.inc({ reason: 'special_characters' }, rejected.length);
    if (folders.length > 0)
      await deps.repos.rejections.recordSkippedFolders(mapping, folders, input.listingGeneration, now);
    return { rejectedFileIds: rejected.map((f) => f.id), skippedFolders: folders.length };
  }
}
