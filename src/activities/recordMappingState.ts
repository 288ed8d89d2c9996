import type { MappingState } from '../domain/mappingState';
import type { ActivityDeps } from './deps';
import { withHeartbeats } from './heartbeat';

export interface RecordStateInput {
  mappingId: string;
  state: MappingState;
  lastError: string | null;
  lastSyncAt: string | null;
}

/**
 * Writes the mapping's state where the API reads it when the workflow cannot be asked (worker
 * down). Called on changes only, so an idle cycle writes nothing.
 */
export function createRecordMappingState(deps: ActivityDeps) {
  // Heartbeats, as every database write does: a write slower than the heartbeat timeout would
  // otherwise be retried beside itself.
  return async function recordMappingState(input: RecordStateInput): Promise<void> {
    await withHeartbeats(async () => {
      await deps.repos.mappings.recordState(input.mappingId, {
        state: input.state,
        lastError: input.lastError,
        lastSyncAt: input.lastSyncAt ? new Date(input.lastSyncAt) : null,
      });
      // An unmapped mapping lists and copies nothing more (its workflow waited for its copy to
      // stop): pages an interrupted cycle kept have no reader left, nor does an upload a killed
      // worker left half written.
      if (input.state === 'unmapped') {
        await deps.repos.listingPages.dropAll(input.mappingId);
        await deps.repos.contents.releaseUploads(input.mappingId);
      }
    });
  };
}
