/**
 * The folder-sync workflow's names, shared by the workflow, the worker and the API's client code.
 * Nothing here may carry a token: all of it is visible in the Temporal Web UI.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { MappingState } from '../domain/mappingState';

export const FOLDER_SYNC_WORKFLOW = 'folderSyncWorkflow';

export function folderSyncWorkflowId(mappingId: string): string {
  return `folder-sync-${mappingId}`;
}

export const pauseSignal = defineSignal('pause');
export const resumeSignal = defineSignal('resume');
export const unmapSignal = defineSignal('unmap');
export const syncNowSignal = defineSignal('syncNow');
export const credentialsUpdatedSignal = defineSignal('credentialsUpdated');

export const MappingIdKey = defineSearchAttributeKey('MappingId', SearchAttributeType.KEYWORD);
export const ProjectIdKey = defineSearchAttributeKey('ProjectId', SearchAttributeType.KEYWORD);
export const DropboxPathKey = defineSearchAttributeKey('DropboxPath', SearchAttributeType.KEYWORD);
export const SyncStateKey = defineSearchAttributeKey('SyncState', SearchAttributeType.KEYWORD);

export const SEARCH_ATTRIBUTES = [MappingIdKey, ProjectIdKey, DropboxPathKey, SyncStateKey] as const;

/**
 * Running totals of what the workflow saw, carried across continue-as-new: activity results, not
 * a count of records (the API's counts come from MongoDB). A page recorded by a retry whose first
 * attempt's completion was lost finds its files recorded and counts them unchanged; a page or an
 * entry listed again (after a pause, a failure or a cursor reset) counts again.
 */
export interface SyncCounters {
  cycles: number;
  filesAdded: number;
  filesUpdated: number;
  filesDeleted: number;
  rejections: number;
  skippedFolders: number;
  /** Listing calls that returned a page. */
  dropboxPages: number;
}

/** What one run hands to the next when it continues as new. */
export interface CarriedState {
  state: Exclude<MappingState, 'unmapped'>;
  cursor?: string;
  /**
   * Increases with every full listing; the sweep after one marks files it did not see as deleted.
   * A new mapping's first is 1; a mapping's workflow started again (its run was terminated) starts
   * from the workflow's clock, above every generation its records carry, or its sweep would spare
   * what they were stamped with.
   */
  listingGeneration: number;
  /** True while a full listing is under way (no cursor yet, or a reset). */
  fullListing: boolean;
  counters: SyncCounters;
  lastSyncAt?: string;
  lastError?: string;
  syncRequested: boolean;
  credentialsUpdated: boolean;
  runs: number;
  /** True once a run ended early to move this mapping's continue-as-new off its neighbours'. */
  runsStaggered?: boolean;
  /** Files recorded whose bytes are still to copy (see contents.ts). */
  contentsPending?: boolean;
  /** The listing time of the earliest page recorded since the last copy began (see contents.ts). */
  contentsRecordedSince?: number;
  /** The listing policy the mapping was last listed under (see `adoptListingPolicy`). */
  listingPolicy?: string;
  /**
   * True once the records were swept because the mapped folder is gone (listing.ts); a listing
   * of the folder clears it, so it is swept once per disappearance, not once per cycle.
   */
  sweptAsGone?: boolean;
  /** The listing slot the next page is kept in (listing.ts). */
  nextSlot?: number;
  /**
   * When the next timed cycle is due (epoch ms), once a wait for it began: a run that continues
   * as new mid-wait (its copy ended) leaves the next run only what remains of the interval.
   */
  nextCycleAt?: number;
}

export interface FolderSyncInput {
  mappingId: string;
  projectId: string;
  dropboxPath: string;
  /** Milliseconds between cycles, set from POLL_INTERVAL by the API that starts the workflow; 5 minutes when absent. */
  pollIntervalMs?: number;
  /**
   * Started for a mapping just created: it has no file records yet, so its first listing needs
   * no sweep (on FerretDB the sweep scans every record of the collection).
   */
  newMapping?: boolean;
  /**
   * Started again for a mapping recorded paused (a signal after its run was terminated): it stays
   * paused until resumed.
   */
  paused?: boolean;
  /** Continue as new after this many history events (the server's suggestion otherwise). */
  continueAsNewAfterEvents?: number;
  /** Continue as new after this many cycles in one run; 12 (an hour at five minutes) when absent. */
  cyclesPerRun?: number;
  carried?: CarriedState;
}

export interface FolderSyncStatus {
  mappingId: string;
  state: MappingState;
  cursorSaved: boolean;
  lastSyncAt: string | null;
  nextSyncAt: string | null;
  lastError: string | null;
  counters: SyncCounters;
  /** 'idle', 'listing' or 'waiting' */
  phase: 'idle' | 'syncing' | 'waiting';
  runs: number;
}

export const statusQuery = defineQuery<FolderSyncStatus>('status');
