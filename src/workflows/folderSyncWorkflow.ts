import {
  CancellationScope,
  allHandlersFinished,
  condition,
  isCancellation,
  makeContinueAsNewFunc,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { FailureTypes } from '../domain/failureTypes';
import type { MappingState } from '../domain/mappingState';
import { runShortening } from '../domain/runStagger';
import { dropbox, records } from './activityProxies';
import { contentCopies } from './contents';
import { cycleReports } from './cycleReports';
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
import { adoptListingPolicy, CycleInterrupted, failureOf, listFolderPages, type ListingRun } from './listing';

const DEFAULT_POLL_INTERVAL_MS = 5 * 60_000;

/** The state a failed cycle leaves the mapping in until a cycle succeeds; other failures leave it active. */
const WAITING_STATE_OF_FAILURE: Partial<Record<string, CarriedState['state']>> = {
  [FailureTypes.credentialsRejected]: 'needs_credentials',
  [FailureTypes.featureDisabled]: 'feature_disabled',
  [FailureTypes.folderMissing]: 'failed',
};

/**
 * A run keeps, until it ends, a few KiB for every cycle: the SDK hangs each cancellation scope and
 * the cancel handler of each activity and timer on the run's root scope, which never settles
 * (≈ 4 KiB an idle cycle, measured with a heap snapshot of a worker running idle runs). Ending a run every hour keeps a cached mapping
 * near its base size instead of growing by ≈ 2 MiB over the 561 cycles the server's history limit
 * allows; a short run is also cheap to replay when a worker lost it from its cache.
 */
export const DEFAULT_CYCLES_PER_RUN = 12;

/**
 * The next run starts on the deployment's current version, and is pinned to it from then on: a
 * run never meets code other than the code that recorded its history.
 */
function continueOnCurrentVersion(input: FolderSyncInput): Promise<never> {
  return makeContinueAsNewFunc<typeof folderSyncWorkflow>({ initialVersioningBehavior: 'AUTO_UPGRADE' })(input);
}

export interface FolderSyncResult {
  mappingId: string;
  state: 'unmapped';
  counters: SyncCounters;
}

function emptyCounters(): SyncCounters {
  return { cycles: 0, filesAdded: 0, filesUpdated: 0, filesDeleted: 0, rejections: 0, skippedFolders: 0, dropboxPages: 0 };
}

function initialState(input: FolderSyncInput): CarriedState {
  return {
    state: input.paused ? 'paused' : 'active',
    listingGeneration: input.newMapping ? 0 : Date.now(),
    fullListing: false,
    counters: emptyCounters(),
    syncRequested: true,
    credentialsUpdated: false,
    runs: 0,
    // A run started afresh (a new mapping, or one whose run was terminated or reset) does not know
    // which records its predecessor left without content records: its first copy looks at all.
    contentsRecordedSince: 0,
  };
}

/**
 * One long-running workflow per mapping: every poll interval it validates the token, lists the
 * folder non-recursively page by page, records rejections and persists new files. Signals pause,
 * resume, sync now, update credentials and unmap. Its history stays bounded by continuing as new,
 * carrying the cursor and counters.
 */
export async function folderSyncWorkflow(input: FolderSyncInput): Promise<FolderSyncResult> {
  const { mappingId } = input;
  const pollIntervalMs = input.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
  const s: CarriedState = input.carried ? { ...input.carried, runs: input.carried.runs + 1 } : initialState(input);
  let unmapRequested = false;
  let phase: FolderSyncStatus['phase'] = 'idle';
  let nextSyncAt: number | null = null;
  let cycleScope: CancellationScope | undefined;

  // File contents are copied beside the cycles; a pause or an unmap stops the copy.
  const copies = contentCopies(mappingId, s);
  const interruptCycle = () => {
    cycleScope?.cancel();
    copies.cancel();
  };

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

  const cyclesPerRun = input.cyclesPerRun ?? DEFAULT_CYCLES_PER_RUN;
  let cyclesThisRun = 0;
  // Once per mapping, a run ends early (see runShortening); later runs keep the offset it made.
  const shortening = s.runsStaggered ? 0 : runShortening(mappingId, cyclesPerRun);
  const runIsFull = () => {
    if (cyclesThisRun >= cyclesPerRun) return true;
    if (shortening === 0 || cyclesThisRun < cyclesPerRun - shortening) return false;
    s.runsStaggered = true;
    return true;
  };
  // A new build became the deployment's current version: this run, pinned to its own build,
  // finishes its cycle and continues as new on the new one. Only after a wait: a run pinned by an
  // operator's override stays on its build, and must not continue as new at every task.
  let waited = false;
  const newVersionIsCurrent = () => waited && workflowInfo().targetWorkerDeploymentVersionChanged;

  const isPaused = () => s.state === 'paused';
  const shouldContinueAsNew = () => {
    const info = workflowInfo();
    const limit = input.continueAsNewAfterEvents;
    return info.continueAsNewSuggested || (limit !== undefined && info.historyLength >= limit);
  };

  // A listing stops for continue-as-new only once the run can end: while a contents copy runs, it
  // would stop at every page and start a cycle, a token check, for each.
  const listing: ListingRun = { input, s, shouldContinueAsNew: () => shouldContinueAsNew() && copies.idle() };
  // The search attribute came with the start (or the previous run): setting it again is an event.
  let publishedState = workflowInfo().typedSearchAttributes.get(SyncStateKey) as MappingState | undefined;
  const publishState = (state: MappingState) => {
    if (publishedState === state) return;
    publishedState = state;
    upsertSearchAttributes([{ key: SyncStateKey, value: state }]);
  };

  /**
   * Writes state and errors to MongoDB when they changed (or, forced, after a cycle that changed
   * files), for the API to show while the worker is down. An idle cycle writes nothing, and gets
   * no promise back: the SDK takes a stack trace of every promise a workflow makes.
   */
  // A new mapping was just recorded active, without an error, by the API that started this run.
  const createdActive = input.newMapping === true && !input.carried;
  let recorded: { state?: MappingState; lastError?: string | undefined } = input.carried
    ? { state: input.carried.state, lastError: input.carried.lastError }
    : createdActive
      ? { state: 'active', lastError: undefined }
      : {};
  const recordState = (force = false): Promise<void> | undefined => {
    const state: MappingState = unmapRequested ? 'unmapped' : s.state;
    publishState(state);
    if (!force && recorded.state === state && recorded.lastError === s.lastError) return undefined;
    recorded = { state, lastError: s.lastError };
    // Not cancellable: once counted as recorded, the write must happen, also when a pause or an
    // unmap interrupts the cycle that makes it.
    return CancellationScope.nonCancellable(() =>
      records.recordMappingState({
        mappingId,
        state,
        lastError: s.lastError ?? null,
        lastSyncAt: s.lastSyncAt ?? null,
      }),
    );
  };

  async function cycle(): Promise<void> {
    phase = 'syncing';
    try {
      const { listingPolicy } = await dropbox.validateToken({ mappingId });
      adoptListingPolicy(s, listingPolicy);
      const { changed } = await listFolderPages(listing);
      s.counters.cycles += 1;
      s.lastSyncAt = new Date(Date.now()).toISOString();
      s.lastError = undefined;
      // A good cycle ends every waiting state but the admin's pause.
      if (s.state !== 'paused') s.state = 'active';
      const recording = recordState(changed);
      if (recording) await recording;
      cycleReports.cycleEnded(mappingId, 'ok');
      if (changed) s.contentsPending = true; // file contents follow (contents.ts)
    } catch (err) {
      if (err instanceof CycleInterrupted || isCancellation(err)) {
        cycleReports.cycleEnded(mappingId, 'interrupted');
        return;
      }
      const failure = failureOf(err);
      s.lastError = failure.message;
      cycleReports.cycleEnded(mappingId, failure.type ?? 'error', failure.message);
      if (failure.type === FailureTypes.mappingGone) {
        unmapRequested = true;
        return;
      }
      const waiting = failure.type === undefined ? undefined : WAITING_STATE_OF_FAILURE[failure.type];
      // A pause that came while the cycle failed outranks it (a resume's cycle finds it again).
      if (waiting && s.state !== 'paused') s.state = waiting;
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

  await recordState(s.runs === 0 && !createdActive);

  for (;;) {
    if (unmapRequested) break;
    // A full run continues as new once its contents copy has ended (it starts no new files after
    // its budget, and none follows it); until then it goes on serving cycles, so a webhook's
    // cycle never waits for a copy.
    const ending = shouldContinueAsNew() || runIsFull() || newVersionIsCurrent();
    // Not ending after all (the new version was rolled back): copies go on.
    copies.finishing(ending);
    const mayEnd = () => (ending || shouldContinueAsNew()) && copies.idle();
    if (ending && copies.idle()) {
      // Let signal handlers finish so nothing they started is lost; their effects are in `s`.
      await condition(allHandlersFinished);
      // The next run takes the carried state as recorded: a pause that came while this run
      // finished is recorded here, or MongoDB would never show it.
      for (let recording = recordState(); recording; recording = recordState()) await recording;
      // An unmap that came while the state was recorded ends the mapping, not just this run: the
      // next run would not know of it.
      if (unmapRequested) break;
      return continueOnCurrentVersion({ ...input, carried: s });
    }
    if (!ending && s.contentsPending && s.state === 'active') copies.request();
    if (isPaused()) {
      phase = 'waiting';
      nextSyncAt = null;
      await recordState();
      // Wakes once an interval, so a paused run too moves to a new current version.
      await condition(() => !isPaused() || unmapRequested || mayEnd(), pollIntervalMs);
      waited = true;
      continue;
    }
    if (!s.syncRequested && !s.credentialsUpdated) {
      // Waiting for credentials, this is also the one retry per interval: a single Dropbox call.
      phase = 'waiting';
      s.nextCycleAt ??= Date.now() + pollIntervalMs;
      nextSyncAt = s.nextCycleAt;
      const woken = await condition(
        () => s.syncRequested || s.credentialsUpdated || unmapRequested || isPaused() || mayEnd(),
        Math.max(1, s.nextCycleAt - Date.now()),
      );
      waited = true;
      if (unmapRequested || isPaused()) continue;
      // The copy ended: the run continues as new.
      if (woken && !s.syncRequested && !s.credentialsUpdated) continue;
      if (!woken) cycleReports.timerCycleStarted(nextSyncAt);
    }
    s.syncRequested = false;
    s.credentialsUpdated = false;
    s.nextCycleAt = undefined;
    cyclesThisRun += 1;
    await runCycle();
  }

  phase = 'idle';
  // The unmap cancelled the copy: the state is recorded once it has stopped writing, since that
  // record also deletes the uploads left on the mapping's revs.
  await condition(copies.idle);
  await recordState();
  return { mappingId, state: 'unmapped', counters: s.counters };
}
