import type { ListedPage } from '../domain/types';
import type { ActivityDeps } from './deps';
import { asActivityFailure } from './failures';
import { loadMappingCredentials } from './mappingCredentials';

export interface ListFolderInput {
  mappingId: string;
  /** Where the last page ended; absent to list the folder from the start. */
  cursor?: string;
}

/**
 * One page of the mapped folder, non-recursively: files to sync, subfolders to report, and the
 * paths deleted since the cursor. One page per call keeps each result small in the history and
 * lets the workflow save the cursor after every page.
 */
export function createListFolder(deps: ActivityDeps) {
  return async function listFolder({ mappingId, cursor }: ListFolderInput): Promise<ListedPage> {
    const { mapping, credentials } = await loadMappingCredentials(deps, mappingId);
    const request = { path: mapping.dropboxPath, limit: deps.pageLimit, ...(cursor ? { cursor } : {}) };
    return asActivityFailure(() => deps.dropbox.listFolderPage(credentials, request));
  };
}
