import { createCheckedCredentials } from './checkedCredentials';
import type { ActivityDeps } from './deps';
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
  return {
    validateToken: createValidateToken(deps, sources),
    listFolder: createListFolder(deps, sources),
    rejectSpecialCharacterPaths: createRejectSpecialCharacterPaths(deps),
    persistNewFiles: createPersistNewFiles(deps),
    recordMappingState: createRecordMappingState(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
