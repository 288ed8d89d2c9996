import { createCheckedCredentials } from './checkedCredentials';
import type { ActivityDeps } from './deps';
import { createListFolder } from './listFolder';
import { createPersistNewFiles } from './persistNewFiles';
import { createRecordMappingState } from './recordMappingState';
import { createRejectSpecialCharacterPaths } from './rejectSpecialCharacterPaths';
import { createValidateToken } from './validateToken';

export type { ActivityDeps } from './deps';

export function createActivities(deps: ActivityDeps) {
  // One per worker: a cycle's token check and listing run on the worker that ran its task.
  const checked = createCheckedCredentials();
  return {
    validateToken: createValidateToken(deps, checked),
    listFolder: createListFolder(deps, checked),
    rejectSpecialCharacterPaths: createRejectSpecialCharacterPaths(deps),
    persistNewFiles: createPersistNewFiles(deps),
    recordMappingState: createRecordMappingState(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
