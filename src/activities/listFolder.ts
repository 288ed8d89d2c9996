import type { ListedPageSummary, ListingPageRef } from '../domain/types';
import type { ActivityDeps } from './deps';
import { asActivityFailure } from './failures';
import { withHeartbeats } from './heartbeat';
import { loadMappingCredentials, type CredentialSources } from './mappingCredentials';

export interface ListFolderInput {
  mappingId: string;
  /** Where the last page ended; absent to list the folder from the start. */
  cursor?: string;
  /** The `listing_pages` slot that keeps a non-empty page until it is recorded. */
  keepInSlot: ListingPageRef['slot'];
}

/**
 * One page of the mapped folder, non-recursively: files to sync, subfolders to report, and the
 * paths deleted since the cursor. One page per call lets the workflow save the cursor after every
 * page. The page is kept in MongoDB, where whichever worker checks and records it reads it; the
 * result is its summary, a few hundred bytes of history per page.
 */
export function createListFolder(deps: ActivityDeps, { mappings, checked }: CredentialSources) {
  return async function listFolder({ mappingId, cursor, keepInSlot }: ListFolderInput): Promise<ListedPageSummary> {
    return withHeartbeats(async () => {
      // The first page of a cycle uses what the token check just loaded, when it ran on this worker.
      const { mapping, credentials } = checked?.take(mappingId) ?? (await loadMappingCredentials(deps, mappings, mappingId));
      const request = { path: mapping.dropboxPath, limit: deps.pageLimit, ...(cursor ? { cursor } : {}) };
      const page = await asActivityFailure(() => deps.dropbox.listFolderPage(credentials, request));
      const counts = { files: page.files.length, folders: page.folders.length, deletedPaths: page.deletedPaths.length };
      const summary: ListedPageSummary = { cursor: page.cursor, hasMore: page.hasMore, counts };
      if (counts.files + counts.folders + counts.deletedPaths > 0) {
        const now = (deps.now ?? (() => new Date()))();
        summary.page = await deps.repos.listingPages.keep(mappingId, keepInSlot, page, now);
      }
      return summary;
    });
  };
}
