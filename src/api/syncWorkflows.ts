import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Mapping } from '../domain/types';
import type { Logger } from '../log';
import {
  DropboxPathKey,
  FOLDER_SYNC_WORKFLOW,
  MappingIdKey,
  ProjectIdKey,
  SyncStateKey,
  credentialsUpdatedSignal,
  folderSyncWorkflowId,
  pauseSignal,
  resumeSignal,
  statusQuery,
  syncNowSignal,
  unmapSignal,
  type FolderSyncInput,
  type FolderSyncStatus,
} from '../workflows/definitions';

export type MappingCommand = 'pause' | 'resume' | 'syncNow' | 'unmap' | 'credentialsUpdated';

/**
 * How old a mapping must be before a read starts its missing workflow: its own create starts it
 * within the request, or takes the mapping back (a deletion of its connection began), and a read
 * must not race either.
 */
const START_ON_READ_AFTER_MS = 60_000;

const SIGNALS = {
  pause: pauseSignal,
  resume: resumeSignal,
  syncNow: syncNowSignal,
  unmap: unmapSignal,
  credentialsUpdated: credentialsUpdatedSignal,
} as const;

/**
 * The mapping's workflow has ended, which it does only once unmapped: it is never started again
 * (a signal racing an unmap would otherwise start a fresh run that syncs an unmapped folder).
 */
export class MappingWorkflowEndedError extends Error {
  constructor(mappingId: string) {
    super(`The sync workflow of mapping ${mappingId} has ended (unmapped)`);
    this.name = 'MappingWorkflowEndedError';
  }
}

/** The API's side of the folder-sync workflows: start one per mapping, signal it, ask its status. */
export interface SyncWorkflows {
  /** Starts the mapping's workflow; a retried request finds the running one instead of a second. */
  start(mapping: Mapping): Promise<void>;
  /**
   * Signals the mapping's workflow, starting it first if it never started (or failed, or was
   * terminated); `MappingWorkflowEndedError` once it completed, which it does only on unmap.
   */
  signal(mapping: Mapping, command: MappingCommand): Promise<void>;
  /**
   * The live status, or null when the workflow cannot answer in time (worker down, not found). A
   * live mapping whose workflow was never started (its create met a Temporal outage and was not
   * sent again) has it started here, so a mapping someone looks at never stays unwatched.
   */
  status(mapping: Mapping): Promise<FolderSyncStatus | null>;
}

export interface SyncWorkflowsOptions {
  client: Client;
  taskQueue: string;
  pollIntervalMs: number;
  /** Cycles per run before the workflow continues as new; the workflow's default (12) when absent. */
  cyclesPerRun?: number;
  log: Logger;
  /** How long a status answer may take before the API shows what MongoDB holds. */
  statusTimeoutMs?: number;
}

export function createSyncWorkflows(options: SyncWorkflowsOptions): SyncWorkflows {
  const { client, taskQueue, pollIntervalMs, cyclesPerRun } = options;
  const statusTimeoutMs = options.statusTimeoutMs ?? 2_000;

  const startOptions = (mapping: Mapping, newMapping = false) => {
    const input: FolderSyncInput = {
      mappingId: mapping._id,
      projectId: mapping.projectId,
      dropboxPath: mapping.dropboxPath,
      pollIntervalMs,
      ...(cyclesPerRun ? { cyclesPerRun } : {}),
      ...(newMapping ? { newMapping } : {}),
      // A signal that starts the workflow again (its run was terminated) keeps the admin's pause.
      ...(mapping.state === 'paused' ? { paused: true } : {}),
    };
    return {
      taskQueue,
      workflowId: folderSyncWorkflowId(mapping._id),
      args: [input] as [FolderSyncInput],
      // Completed means unmapped: no start or signal may begin a run again.
      workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY' as const,
      typedSearchAttributes: [
        { key: MappingIdKey, value: mapping._id },
        { key: ProjectIdKey, value: mapping.projectId },
        { key: DropboxPathKey, value: mapping.dropboxPath === '' ? '/' : mapping.dropboxPath },
        { key: SyncStateKey, value: mapping.state },
      ],
    };
  };

  const workflows: SyncWorkflows = {
    async start(mapping) {
      // Only creation starts a workflow for a mapping that has never had records (ids are new);
      // signalWithStart may restart one whose records exist, and so sweeps.
      try {
        await client.workflow.start(FOLDER_SYNC_WORKFLOW, {
          ...startOptions(mapping, mapping.state === 'active' && !mapping.lastSyncAt),
          workflowIdConflictPolicy: 'USE_EXISTING',
        });
      } catch (err) {
        // Its workflow completed: the mapping was unmapped (an unmap can start and end a run
        // between the mapping's insert and this start).
        throw err instanceof WorkflowExecutionAlreadyStartedError ? new MappingWorkflowEndedError(mapping._id) : err;
      }
    },

    async signal(mapping, command) {
      try {
        await client.workflow.signalWithStart(FOLDER_SYNC_WORKFLOW, {
          ...startOptions(mapping),
          signal: SIGNALS[command],
          signalArgs: [],
        });
      } catch (err) {
        throw err instanceof WorkflowExecutionAlreadyStartedError ? new MappingWorkflowEndedError(mapping._id) : err;
      }
    },

    async status(mapping) {
      const handle = client.workflow.getHandle(folderSyncWorkflowId(mapping._id));
      try {
        return await client.withDeadline(Date.now() + statusTimeoutMs, () => handle.query(statusQuery));
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError)) {
          options.log.debug('status query unanswered', { mappingId: mapping._id, error: (err as Error).message });
        } else if (mapping.state !== 'unmapped' && Date.now() - mapping.createdAt.getTime() > START_ON_READ_AFTER_MS) {
          await workflows.start(mapping).then(
            () => options.log.info('sync workflow of a mapping started when it was read', { mappingId: mapping._id }),
            (startErr: unknown) =>
              options.log.debug('sync workflow not started', { mappingId: mapping._id, error: (startErr as Error).message }),
          );
        }
        return null;
      }
    },
  };
  return workflows;
}
