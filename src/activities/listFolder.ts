import type { ListedPage, ListedPageSummary, ListingPageRef } from '../domain/types';
import type { ActivityDeps } from './deps';
import { asActivityFailure } from './failures';
import { loadMappingCredentials, type CredentialSources } from './mappingCredentials';

export interface ListFolderInput {
  mappingId: string;
  /** Where the last page ended; absent to list the folder from the start. */
  cursor?: string;
  /**
   * Keep a non-empty page in this slot of `listing_pages` and return only its summary. Absent
   * (workflows started before pages were kept): the whole page is returned.
   */
  keepInSlot?: ListingPageRef['slot'];
}

/**
 * One page of the mapped folder, non-recursively: files to sync, subfolders to report, and the
 * paths deleted since the cursor. One page per call lets the workflow save the cursor after every
 * page; keeping the page in MongoDB keeps the history at a few hundred bytes per page.
 */
export function createListFolder(deps: ActivityDeps, { mappings, checked }: CredentialSources) {
  async function listFolder(input: ListFolderInput & { keepInSlot: ListingPageRef['slot'] }): Promise<ListedPageSummary>;
  async function listFolder(input: ListFolderInput): Promise<ListedPage>;
  async function listFolder({ mappingId, cursor, keepInSlot }: ListFolderInput): Promise<ListedPage | ListedPageSummary> {
    // The first page of a cycle uses what the token check just loaded; later pages read again.
    const { mapping, credentials } = checked?.take(mappingId) ?? (await loadMappingCredentials(deps, mappings, mappingId));
    const request = { path: mapping.dropboxPath, limit: deps.pageLimit, ...(cursor ? { cursor } : {}) };
    const page = await asActivityFailure(() => deps.dropbox.listFolderPage(credentials, request));
    if (keepInSlot === undefined) return page;
    const counts = { files: page.files.length, folders: page.folders.length, deletedPaths: page.deletedPaths.length };
    const summary: ListedPageSummary = { cursor: page.cursor, hasMore: page.hasMore, counts };
    if (counts.files + counts.folders + counts.deletedPaths > 0) {
      const now = (deps.now ?? (() => new Date()))();
      summary.page = await deps.repos.listingPages.keep(mappingId, keepInSlot, page, now);
    }
    return summary;
  }
  return listFolder;
}
