import { ApplicationFailure } from '@temporalio/common';
import { isLive } from '../domain/mappingState';
import type { Mapping } from '../domain/types';
import { FailureTypes } from './failures';

/** How long one read of a mapping serves its cycles on a worker before it is read again. */
export const MAPPING_RECHECK_MS = 60 * 60_000;
const MAX_ENTRIES = 100_000;

/**
 * What a cycle needs of its mapping: set when the mapping is created, never changed after, as is
 * the organization of its project (null when the project is gone).
 */
export type MappingFacts = Pick<Mapping, '_id' | 'connectionId' | 'dropboxPath'> & { orgId: string | null };

/** A mapping as read, with the organization of its project. */
export type MappingRead = Mapping & { orgId: string | null };

/**
 * The mappings this worker has read lately. Reading the mapping on every cycle was a lookup in
 * the sync's largest collection, and FerretDB's SQLite backend answers a lookup by `_id` with a
 * scan (BENCHMARKS.md), for facts that do not change. The read also checks that the mapping is
 * still live; unmapping signals the workflow first, so the recheck only matters for a mapping
 * unmapped behind its workflow's back, which ends within MAPPING_RECHECK_MS.
 */
export interface KnownMappings {
  /** The mapping's facts; fails as MappingGone if it no longer exists or was unmapped. */
  get(mappingId: string): Promise<MappingFacts>;
}

export interface KnownMappingsOptions {
  now?: () => number;
  recheckMs?: number;
  /** In [0, 1); spreads each mapping's first recheck on this worker over the period. */
  random?: () => number;
}

export function createKnownMappings(
  read: (mappingId: string) => Promise<MappingRead | null>,
  { now = Date.now, recheckMs = MAPPING_RECHECK_MS, random = Math.random }: KnownMappingsOptions = {},
): KnownMappings {
  // In the order they were read, so the entries to drop first are at the front.
  const entries = new Map<string, { facts: MappingFacts; until: number }>();
  return {
    async get(mappingId) {
      const entry = entries.get(mappingId);
      if (entry && now() < entry.until) return entry.facts;
      entries.delete(mappingId);
      const mapping = await read(mappingId);
      if (!mapping || !isLive(mapping.state)) {
        throw ApplicationFailure.nonRetryable(`Mapping ${mappingId} no longer exists`, FailureTypes.mappingGone);
      }
      const facts: MappingFacts = {
        _id: mapping._id,
        connectionId: mapping.connectionId,
        dropboxPath: mapping.dropboxPath,
        orgId: mapping.orgId,
      };
      // A worker that starts reads every mapping within one poll interval. Trusted for a whole
      // period, those reads would all fall due again in one interval every hour (5,000 scans in
      // five minutes on FerretDB, BENCHMARKS.md); a first read trusted for a random part of the
      // period spreads them over the hour, and a recheck keeps its place.
      const trustedFor = entry ? recheckMs : recheckMs * (1 - random());
      entries.set(mappingId, { facts, until: now() + trustedFor });
      if (entries.size > MAX_ENTRIES) entries.delete(entries.keys().next().value as string);
      return facts;
    },
  };
}
