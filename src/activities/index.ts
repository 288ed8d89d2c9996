import { createCheckedCredentials } from './checkedCredentials';
import { createContentSlots } from './contentSlots';
import { createCopyFileContents } from './copyFileContents';
import type { ActivityDeps } from './deps';
import { createHeldPages } from './heldPages';
import { createKnownMappings } from './knownMappings';
import { createListFolder } from './listFolder';
import { createPersistNewFiles } from './persistNewFiles';
import { createRecordMappingState } from './recordMappingState';
import { createRejectSpecialCharacterPaths } from './rejectSpecialCharacterPaths';
import { createValidateToken } from './validateToken';

export type { ActivityDeps } from './deps';

export function createActivities(deps: ActivityDeps) {
  // One per worker: a cycle's token check and listing run on the worker that ran its task.
  const sources = {
    mappings: createKnownMappings((id) => deps.repos.mappings.getById(id), {
      now: () => (deps.now?.() ?? new Date()).getTime(),
    }),
    checked: createCheckedCredentials(),
  };
  // A listing that runs on this worker holds its pages here between listing and recording.
  const held = createHeldPages({ ...(deps.heldEntries !== undefined ? { maxEntries: deps.heldEntries } : {}) });
  // Downloads in flight on this worker, over all its mappings (CONTENT_CONCURRENCY).
  const contentSlots = createContentSlots(deps.contentConcurrency);
  return {
    validateToken: createValidateToken(deps, sources),
    listFolder: createListFolder(deps, sources, held),
    rejectSpecialCharacterPaths: createRejectSpecialCharacterPaths(deps, held),
    persistNewFiles: createPersistNewFiles(deps, held),
    recordMappingState: createRecordMappingState(deps, held),
    copyFileContents: createCopyFileContents(deps, sources, contentSlots),
  };
}

export type Activities = ReturnType<typeof createActivities>;
