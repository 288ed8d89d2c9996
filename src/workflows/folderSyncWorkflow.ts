import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  allHandlersFinished,
  condition,
  continueAsNew,
  isCancellation,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { FailureTypes } from '../domain/failureTypes';
import type { MappingState } from '../domain/mappingState';
import type { ListedPage } from '../domain/types';
import {
  type CarriedState,
  type FolderSyncInput,
  type FolderSyncStatus,
  type SyncCounters,
  SyncStateKey,
  credentialsUpdatedSignal,
  pauseSignal,
  resumeSignal,
  statusQuery,
  syncNowSignal,
  unmapSignal,
} from './definitions';

const DEFAULT_POLL_INTERVAL_MS = 5 * 60_000;

// Dropbox calls: outages and rate limits are retried here (429 waits for its Retry-After through
// `nextRetryDelay`); what the admin must fix is not retried and reaches the workflow at once.
// Local activities: an idle cycle (validate, list one empty page) then fits in one workflow task,
// a handful of history events instead of a dozen and a half.
const dropbox = proxyLocalActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    maximumAttempts: 10,
    nonRetryableErrorTypes: [
      FailureTypes.credentialsRejected,
      FailureTypes.cursorReset,
      FailureTypes.folderMissing,
      FailureTypes.mappingGone,
      FailureTypes.badRequest,
    ],
  },
});

// Database writes are idempotent, so they retry until the database is back. They heartbeat, so
// a worker that died mid-write is noticed in seconds rather than at the end of the timeout.
const records = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '10 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

export interface FolderSyncResult {
  mappingId: string;
  state: 'unmapped';
  counters: SyncCounters;
}

function emptyCounters(): SyncCounters {
  return { cycles: 0, filesAdded: 0, filesUpdated: 0, filesDeleted: 0, rejections: 0, skippedFolders: 0, dropboxPages: 0 };
}

function initialState(): CarriedState {
  return {
    state: 'active',
    listingGeneration: 0,
    fullListing: false,
    counters: emptyCounters(),
    syncRequested: true,
    credentialsUpdated: false,
    runs: 0,
  };
}

function failureOf(err: unknown): { type: string | undefined; message: string } {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure) return { type: cause.type ?? undefined, message: cause.message };
  return { type: undefined, message: err instanceof Error ? err.message : String(err) };
}

/** Ends a cycle early without failing it: a pause, an unmap, or time to continue as new. */
class CycleInterrupted extends Error {}

/**
 * One long-running workflow per mapping: every poll interval it validates the token, lists the
 * folder non-recursively page by page, records rejections and persists new files. Signals pause,
 * resume, sync now, update credentials and unmap. Its history stays bounded by continuing as new,
 * carrying the cursor and counters.
 */
export async function folderSyncWorkflow(input: FolderSyncInput): Promise<FolderSyncResult> {
  const { mappingId, projectId } = input;
  const pollIntervalMs = input.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
  const s: CarriedState = input.carried ? { ...input.carried, runs: input.carried.runs + 1 } : initialState();
  let unmapRequested = false;
  let phase: FolderSyncStatus['phase'] = 'idle';
  let nextSyncAt: number | null = null;
  let cycleScope: CancellationScope | undefined;

  const interruptCycle = () => cycleScope?.cancel();

  setHandler(pauseSignal, () => {
    if (s.state !== 'paused') {
      s.state = 'paused';
      interruptCycle();
    }
  });
  setHandler(resumeSignal, () => {
    if (s.state === 'paused') {
      s.state = 'active';
      s.syncRequested = true;
    }
  });
  setHandler(syncNowSignal, () => {
    s.syncRequested = true;
  });
  setHandler(credentialsUpdatedSignal, () => {
    s.credentialsUpdated = true;
  });
  setHandler(unmapSignal, () => {
    unmapRequested = true;
    interruptCycle();
  });
  setHandler(statusQuery, () => ({
    mappingId,
    state: unmapRequested ? 'unmapped' : s.state,
    cursorSaved: s.cursor !== undefined,
    lastSyncAt: s.lastSyncAt ?? null,
    nextSyncAt: phase === 'waiting' && nextSyncAt !== null ? new Date(nextSyncAt).toISOString() : null,
    lastError: s.lastError ?? null,
    counters: s.counters,
    phase,
    runs: s.runs,
  }));

  const isPaused = () => s.state === 'paused';
  const shouldContinueAsNew = () => {
    const info = workflowInfo();
    const limit = input.continueAsNewAfterEvents;
    return info.continueAsNewSuggested || (limit !== undefined && info.historyLength >= limit);
  };

  let publishedState: MappingState | undefined;
  const publishState = (state: MappingState) => {
    if (publishedState === state) return;
    publishedState = state;
    upsertSearchAttributes([{ key: SyncStateKey, value: state }]);
  };

  /**
   * Writes state and errors to MongoDB when they changed (or, forced, after a cycle that changed
   * files), for the API to show while the worker is down. An idle cycle writes nothing.
   */
  let recorded: { state?: MappingState; lastError?: string | undefined } = input.carried
    ? { state: input.carried.state, lastError: input.carried.lastError }
    : {};
  const recordState = async (force = false) => {
    const state: MappingState = unmapRequested ? 'unmapped' : s.state;
    publishState(state);
    if (!force && recorded.state === state && recorded.lastError === s.lastError) return;
    recorded = { state, lastError: s.lastError };
    await records.recordMappingState({
      mappingId,
      state,
      lastError: s.lastError ?? null,
      lastSyncAt: s.lastSyncAt ?? null,
    });
  };

  async function listAndPersist(): Promise<{ changed: boolean }> {
    let changed = false;
    for (;;) {
      if (s.cursor === undefined && !s.fullListing) {
        s.fullListing = true;
        s.listingGeneration += 1;
      }
      let page: ListedPage;
      try {
        page = await dropbox.listFolder({ mappingId, ...(s.cursor ? { cursor: s.cursor } : {}) });
      } catch (err) {
        if (failureOf(err).type !== FailureTypes.cursorReset) throw err;
        // Dropbox forgot where we were: list everything again; the sweep at its end removes
        // records of files deleted while the cursor was lost.
        s.cursor = undefined;
        s.fullListing = false;
        continue;
      }
      s.counters.dropboxPages += 1;
      let accepted = page.files;
      if (page.files.length > 0 || page.folders.length > 0) {
        const rejection = await records.rejectSpecialCharacterPaths({
          mappingId,
          projectId,
          files: page.files.map(({ id, name, pathDisplay, pathLower }) => ({ id, name, pathDisplay, pathLower })),
          folders: page.folders,
        });
        if (rejection.rejectedFileIds.length > 0) {
          const rejected = new Set(rejection.rejectedFileIds);
          accepted = page.files.filter((f) => !rejected.has(f.id));
        }
        s.counters.rejections += rejection.rejectedFileIds.length;
        s.counters.skippedFolders += rejection.skippedFolders;
        changed = true;
      }
      // Generation 1 of a new mapping lists a folder of which nothing is recorded: nothing to sweep.
      const sweep = s.fullListing && !page.hasMore && !(input.newMapping && s.listingGeneration === 1);
      if (accepted.length > 0 || page.deletedPaths.length > 0 || sweep) {
        const persisted = await records.persistNewFiles({
          mappingId,
          projectId,
          files: accepted,
          deletedPaths: page.deletedPaths,
          listingGeneration: s.listingGeneration,
          sweep,
          fullListing: s.fullListing,
        });
        s.counters.filesAdded += persisted.added;
        s.counters.filesUpdated += persisted.updated;
        s.counters.filesDeleted += persisted.deleted;
        changed ||= persisted.added + persisted.updated + persisted.deleted > 0;
      }
      // The cursor moves only once the page is safely recorded.
      s.cursor = page.cursor;
      if (!page.hasMore) {
        s.fullListing = false;
        return { changed };
      }
      if (shouldContinueAsNew()) {
        s.syncRequested = true;
        throw new CycleInterrupted();
      }
    }
  }

  async function cycle(): Promise<void> {
    phase = 'syncing';
    try {
      await dropbox.validateToken({ mappingId });
      const { changed } = await listAndPersist();
      s.counters.cycles += 1;
      s.lastSyncAt = new Date(Date.now()).toISOString();
      s.lastError = undefined;
      if (s.state === 'needs_credentials' || s.state === 'failed') s.state = 'active';
      await recordState(changed);
    } catch (err) {
      if (err instanceof CycleInterrupted || isCancellation(err)) return;
      const failure = failureOf(err);
      s.lastError = failure.message;
      if (failure.type === FailureTypes.mappingGone) {
        unmapRequested = true;
        return;
      }
      if (failure.type === FailureTypes.credentialsRejected) s.state = 'needs_credentials';
      else if (failure.type === FailureTypes.folderMissing) s.state = 'failed';
      await recordState();
    } finally {
      phase = 'idle';
    }
  }

  async function runCycle(): Promise<void> {
    const scope = new CancellationScope();
    cycleScope = scope;
    try {
      await scope.run(cycle);
    } catch (err) {
      if (!isCancellation(err)) throw err;
    } finally {
      cycleScope = undefined;
    }
  }

  await recordState(s.runs === 0);

  for (;;) {
    if (unmapRequested) break;
    if (shouldContinueAsNew()) {
      // Let signal handlers finish so nothing they started is lost; their effects are in `s`.
      await condition(allHandlersFinished);
      return continueAsNew<typeof folderSyncWorkflow>({ ...input, carried: s });
    }
    if (isPaused()) {
      phase = 'waiting';
      nextSyncAt = null;
      await recordState();
      await condition(() => !isPaused() || unmapRequested || shouldContinueAsNew());
      continue;
    }
    if (!s.syncRequested && !s.credentialsUpdated) {
      // Waiting for credentials, this is also the one retry per interval: a single Dropbox call.
      phase = 'waiting';
      nextSyncAt = Date.now() + pollIntervalMs;
      await condition(
        () => s.syncRequested || s.credentialsUpdated || unmapRequested || isPaused(),
        pollIntervalMs,
      );
      if (unmapRequested || isPaused()) continue;
    }
    s.syncRequested = false;
    s.credentialsUpdated = false;
    await runCycle();
  }

  phase = 'idle';
  await CancellationScope.nonCancellable(() => recordState());
  return { mappingId, state: 'unmapped', counters: s.counters };
}
