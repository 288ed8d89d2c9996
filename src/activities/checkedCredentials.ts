import type { MappingCredentials } from './mappingCredentials';

/** Long enough for the listing that follows a token check; short enough that a changed token is read again. */
const HAND_OFF_MS = 30_000;
const MAX_ENTRIES = 10_000;

/**
 * The credentials a token check just loaded, handed to the listing that follows it in the same
 * cycle, so an idle cycle reads the mapping and its connection once instead of twice. Kept in the
 * worker's memory only (never in a workflow input or result), taken once, dropped when stale.
 */
export interface CheckedCredentials {
  keep(mappingId: string, loaded: MappingCredentials): void;
  /** The entry the last check kept for this mapping, if recent; it is removed either way. */
  take(mappingId: string): MappingCredentials | undefined;
}

export function createCheckedCredentials(now: () => number = Date.now): CheckedCredentials {
  const entries = new Map<string, { loaded: MappingCredentials; at: number }>();

  function dropStale(): void {
    // Entries are inserted in time order, so the stale ones are at the front.
    for (const [id, entry] of entries) {
      if (now() - entry.at < HAND_OFF_MS && entries.size <= MAX_ENTRIES) return;
      entries.delete(id);
    }
  }

  return {
    keep(mappingId, loaded) {
      entries.delete(mappingId);
      entries.set(mappingId, { loaded, at: now() });
      dropStale();
    },
    take(mappingId) {
      const entry = entries.get(mappingId);
      if (!entry) return undefined;
      entries.delete(mappingId);
      return now() - entry.at < HAND_OFF_MS ? entry.loaded : undefined;
    },
  };
}
