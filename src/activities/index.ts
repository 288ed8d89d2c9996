import { createCheckedCredentials } from './checkedCredentials';
import { createContentSlots } from './contentSlots';
import { createCopyFileContents } from './copyFileContents';
import type { ActivityDeps } from './deps';
import { withHeartbeats } from './heartbeat';
import { createKnownMappings } from './knownMappings';
import { createListFolder } from './listFolder';
import { createPersistNewFiles } from './persistNewFiles';
import { createRecordMappingState } from './recordMappingState';
import { createRejectSpecialCharacterPaths } from './rejectSpecialCharacterPaths';
import { createValidateToken } from './validateToken';

export type { ActivityDeps } from './deps';

export function createActivities(deps: ActivityDeps) {
  // One per worker. A cycle's token check hands what it loaded to the listing that follows when
  // both run on this worker (usual, not needed: any worker may run either).
  const sources = {
    mappings: createKnownMappings(async (id) => {
      const mapping = await deps.repos.mappings.getById(id);
      if (!mapping) return null;
      const project = await deps.repos.projects.get(mapping.projectId);
      return { ...mapping, orgId: project?.orgId ?? null };
    }, {
      now: () => (deps.now?.() ?? new Date()).getTime(),
    }),
    checked: createCheckedCredentials(),
  };
  const validateToken = createValidateToken(deps, sources);
  // Downloads in flight on this worker, over all its mappings (CONTENT_CONCURRENCY).
  const contentSlots = createContentSlots(deps.contentConcurrency);
  return {
    // Heartbeats, as every Dropbox call does: a worker that died mid-call is noticed in seconds.
    validateToken: (...args: Parameters<typeof validateToken>) => withHeartbeats(() => validateToken(...args)),
    listFolder: createListFolder(deps, sources),
    rejectSpecialCharacterPaths: createRejectSpecialCharacterPaths(deps),
    persistNewFiles: createPersistNewFiles(deps),
    recordMappingState: createRecordMappingState(deps),
    copyFileContents: createCopyFileContents(deps, sources, contentSlots),
  };
}

export type Activities = ReturnType<typeof createActivities>;
