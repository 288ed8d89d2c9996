import type { ListedPage, ListedPageSummary, ListingPageRef } from '../domain/types';
import type { ActivityDeps } from './deps';
import { asActivityFailure } from './failures';
import type { HeldPages } from './heldPages';
import { loadMappingCredentials, type CredentialSources } from './mappingCredentials';

export interface ListFolderInput {
  mappingId: string;
  /** Where the last page ended; absent to list the folder from the start. */
  cursor?: string;
  /**
   * Keep a non-empty page in this slot and return only its summary. Absent (workflows started
   * before pages were kept): the whole page is returned.
   */
  keepInSlot?: ListingPageRef['slot'];
  /**
   * The listing's activities all run on this worker (local activities of one workflow task):
   * hold the page in its memory, and in `listing_pages` only past the worker's budget. Absent:
   * in `listing_pages`, for activities that may run on any worker.
   */
  holdOnWorker?: boolean;
}

/**
 * One page of the mapped folder, non-recursively: files to sync, subfolders to report, and the
 * paths deleted since the cursor. One page per call lets the workflow save the cursor after every
 * page; keeping the page out of the result keeps the history at a few hundred bytes per page.
 */
export function createListFolder(deps: ActivityDeps, { mappings, checked }: CredentialSources, held: HeldPages) {
  async function listFolder(input: ListFolderInput & { keepInSlot: ListingPageRef['slot'] }): Promise<ListedPageSummary>;
  async function listFolder(input: ListFolderInput): Promise<ListedPage>;
  async function listFolder({ mappingId, cursor, keepInSlot, holdOnWorker }: ListFolderInput): Promise<ListedPage | ListedPageSummary> {
    const { mapping, credentials } = await credentialsFor(mappingId, holdOnWorker === true);
    const request = { path: mapping.dropboxPath, limit: deps.pageLimit, ...(cursor ? { cursor } : {}) };
    const page = await asActivityFailure(() => deps.dropbox.listFolderPage(credentials, request));
    if (keepInSlot === undefined) return page;
    const counts = { files: page.files.length, folders: page.folders.length, deletedPaths: page.deletedPaths.length };
    const summary: ListedPageSummary = { cursor: page.cursor, hasMore: page.hasMore, counts };
    if (counts.files + counts.folders + counts.deletedPaths > 0) {
      const now = (deps.now ?? (() => new Date()))();
      summary.page =
        (holdOnWorker ? held.hold(mappingId, keepInSlot, page, now) : undefined) ??
        (await deps.repos.listingPages.keep(mappingId, keepInSlot, page, now));
    }
    return summary;
  }

  // The first page of a cycle uses what the token check just loaded. A listing spread over
  // workers reads again for each later page; one on this worker reuses it for a little while.
  async function credentialsFor(mappingId: string, onWorker: boolean) {
    const checkedNow = onWorker ? checked?.peek(mappingId) : checked?.take(mappingId);
    if (checkedNow) return checkedNow;
    const loaded = await loadMappingCredentials(deps, mappings, mappingId);
    if (onWorker) checked?.keep(mappingId, loaded);
    return loaded;
  }

  return listFolder;
}
