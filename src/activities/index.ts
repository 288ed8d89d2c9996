import type { ActivityDeps } from './deps';
import { createListFolder } from './listFolder';
import { createPersistNewFiles } from './persistNewFiles';
import { createRecordMappingState } from './recordMappingState';
import { createRejectSpecialCharacterPaths } from './rejectSpecialCharacterPaths';
import { createValidateToken } from './validateToken';

export type { ActivityDeps } from './deps';

export function createActivities(deps: ActivityDeps) {
  return {
    validateToken: createValidateToken(deps),
    listFolder: createListFolder(deps),
    rejectSpecialCharacterPaths: createRejectSpecialCharacterPaths(deps),
    persistNewFiles: createPersistNewFiles(deps),
    recordMappingState: createRecordMappingState(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
