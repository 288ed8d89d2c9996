/** The states a mapping can be in, as admins see them and as `SyncState` holds them. */
export const MAPPING_STATES = ['active', 'paused', 'needs_credentials', 'feature_disabled', 'unmapped', 'failed'] as const;
export type MappingState = (typeof MAPPING_STATES)[number];

/** A mapping in these states still has a workflow running and holds its folder. */
export const LIVE_STATES: readonly MappingState[] = ['active', 'paused', 'needs_credentials', 'feature_disabled', 'failed'];

/**
 * A change notification brings the next cycle forward for these. `failed` (folder gone) too: the
 * change may be the folder coming back. Not `needs_credentials`: its token was refused, a cycle
 * would only be refused again (it resumes when the admin replaces the token); not `paused`; not
 * `feature_disabled` (it resumes when the organization gets the feature back).
 */
export const SYNC_ON_CHANGE_STATES: readonly MappingState[] = ['active', 'failed'];

export function isLive(state: MappingState): boolean {
  return LIVE_STATES.includes(state);
}

export const SUBFOLDER_HINT =
  'Subfolders are not synced. Create a new mapping for this folder to sync its files.';
