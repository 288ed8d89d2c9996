import type { FileRecord, Mapping } from '../domain/types';
import type { Logger } from '../log';
import type { ApiRepositories } from './deps';
import { ApiError } from './errors';
import { MappingWorkflowEndedError, type MappingCommand, type SyncWorkflows } from './syncWorkflows';

/** The mapping, if it belongs to the project; another project's mapping is just not found. */
export async function findMapping(
  repos: Pick<ApiRepositories, 'mappings'>,
  projectId: string,
  mappingId: string,
): Promise<Mapping> {
  const mapping = await repos.mappings.get(projectId, mappingId);
  if (!mapping) {
    throw new ApiError(404, 'mapping_not_found', `This project has no Dropbox mapping ${mappingId}`, {
      mappingId,
    });
  }
  return mapping;
}

/** The mapping's file record by its API id (the Dropbox id), deleted or not. */
export async function findFile(
  repos: Pick<ApiRepositories, 'contents'>,
  mapping: Mapping,
  fileId: string,
): Promise<FileRecord> {
  const file = await repos.contents.getFile(mapping._id, fileId);
  if (!file) throw new ApiError(404, 'file_not_found', `This mapping has no file ${fileId}`, { fileId });
  return file;
}

function temporalUnavailable(message: string, mappingId: string): ApiError {
  return new ApiError(503, 'temporal_unavailable', message, { mappingId });
}

/**
 * Starts the mapping's workflow. Whatever goes wrong is Temporal's side (unreachable, overloaded,
 * misconfigured): the mapping stays stored and a retry of the same request starts it.
 */
export async function startMappingWorkflow(
  syncWorkflows: SyncWorkflows,
  mapping: Mapping,
  log: Logger,
): Promise<void> {
  try {
    await syncWorkflows.start(mapping);
  } catch (err) {
    if (err instanceof MappingWorkflowEndedError) {
      // Not "send it again": that would map the folder the admin has just unmapped.
      throw new ApiError(409, 'mapping_unmapped', 'The mapping was unmapped while it was being created; create a new mapping to sync the folder', {
        mappingId: mapping._id,
      });
    }
    log.error('sync workflow did not start', { mappingId: mapping._id, error: err });
    throw temporalUnavailable(
      'The mapping is saved but its sync could not be started; send the same request again to start it',
      mapping._id,
    );
  }
}

/** Signals the mapping's workflow; nothing is changed in MongoDB when Temporal cannot take it. */
export async function signalMapping(
  syncWorkflows: SyncWorkflows,
  mapping: Mapping,
  command: MappingCommand,
  log: Logger,
): Promise<void> {
  try {
    await syncWorkflows.signal(mapping, command);
  } catch (err) {
    if (err instanceof MappingWorkflowEndedError) {
      // Unmapped meanwhile (or its record missed it): an unmap is done, any other command too late.
      if (command === 'unmap') return;
      throw new ApiError(409, 'mapping_unmapped', 'The mapping was unmapped; create a new mapping to sync the folder again', {
        mappingId: mapping._id,
      });
    }
    log.error('sync workflow signal failed', { mappingId: mapping._id, command, error: err });
    throw temporalUnavailable(
      'The sync service cannot take the request right now; try again shortly',
      mapping._id,
    );
  }
}
