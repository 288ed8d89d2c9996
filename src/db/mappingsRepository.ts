import type { Db } from 'mongodb';
import { dropboxPathKey, normalizeDropboxPath } from '../domain/dropboxPath';
import {
  LIVE_STATES,
  MAPPING_STATES,
  SYNC_ON_CHANGE_STATES,
  type MappingState,
} from '../domain/mappingState';
import type { Mapping } from '../domain/types';
import { collections } from './collections';
import { NotFoundError, insertUnique } from './errors';
import { newId } from './ids';

export interface NewMapping {
  /** Chosen by the caller when it must know the id (and so the workflow id) before the insert. */
  id?: string;
  projectId: string;
  connectionId: string;
  dropboxPath: string;
  targetFolder: string;
  state?: MappingState;
}

export interface MappingStateUpdate {
  state: MappingState;
  /** Left out: unchanged; null: cleared. */
  lastError?: string | null;
  lastSyncAt?: Date | null;
}

export function workflowIdFor(mappingId: string): string {
  return `folder-sync-${mappingId}`;
}

/** One live mapping per project, connection and folder; the unique index on it settles races. */
export function liveKeyFor(projectId: string, connectionId: string, dropboxPathLower: string): string {
  return `${projectId}|${connectionId}|${dropboxPathLower}`;
}

function unmappedKey(id: string): string {
  return `unmapped|${id}`;
}

export function createMappingsRepository(db: Db) {
  const { mappings, connections, projects, orgs } = collections(db);
  const live = { state: { $in: [...LIVE_STATES] } };

  // Rewriting the live key frees the folder for a new mapping while this record stays for history.
  const unmappedFields = (id: string, now: Date) => ({
    state: 'unmapped' as const,
    liveKey: unmappedKey(id),
    updatedAt: now,
  });

  return {
    /** Throws `DuplicateError` when the folder is already mapped live in the project. */
    async create(input: NewMapping, now = new Date()): Promise<Mapping> {
      const id = input.id ?? newId();
      const dropboxPath = normalizeDropboxPath(input.dropboxPath);
      const dropboxPathLower = dropboxPathKey(dropboxPath);
      const mapping: Mapping = {
        _id: id,
        projectId: input.projectId,
        connectionId: input.connectionId,
        dropboxPath,
        dropboxPathLower,
        targetFolder: input.targetFolder,
        workflowId: workflowIdFor(id),
        liveKey: liveKeyFor(input.projectId, input.connectionId, dropboxPathLower),
        state: input.state ?? 'active',
        lastError: null,
        lastSyncAt: null,
        createdAt: now,
        updatedAt: now,
      };
      if (mapping.state === 'unmapped') mapping.liveKey = unmappedKey(id);
      await insertUnique(
        mappings,
        mapping,
        'mapping',
        `The folder "${dropboxPath || '/'}" is already mapped in this project`,
      );
      return mapping;
    },

    /** Scoped by project: an id from another project finds nothing. */
    async get(projectId: string, id: string): Promise<Mapping | null> {
      // By `_id` alone, the project checked here: FerretDB answers only that filter without
      // reading every mapping, and every mapping route starts with this lookup.
      const mapping = await mappings.findOne({ _id: id });
      return mapping?.projectId === projectId ? mapping : null;
    },

    async getById(id: string): Promise<Mapping | null> {
      return mappings.findOne({ _id: id });
    },

    async listByProject(projectId: string): Promise<Mapping[]> {
      return mappings.find({ projectId }).sort({ createdAt: 1, _id: 1 }).toArray();
    },

    /** The projects' mappings in this state (through the `projectId` index). */
    async listInStateByProjects(projectIds: string[], state: MappingState): Promise<Mapping[]> {
      if (projectIds.length === 0) return [];
      return mappings.find({ projectId: { $in: projectIds }, state }).toArray();
    },

    async listLiveByConnection(connectionId: string): Promise<Mapping[]> {
      return mappings
        .find({ connectionId, ...live })
        .sort({ createdAt: 1, _id: 1 })
        .toArray();
    },

    /**
     * The mappings a change in the Dropbox account should sync now (SYNC_ON_CHANGE_STATES), over
     * every connection to it, of organizations with the Dropbox feature: one switched off makes no
     * Dropbox call, though its mappings show `feature_disabled` only from their next cycle.
     * `appKey`: only the connections made with that Dropbox app.
     */
    async listSyncOnChangeByAccount(accountId: string, appKey?: string): Promise<Mapping[]> {
      const connectionIds = await connections
        .find({ accountId, ...(appKey === undefined ? {} : { appKey }) }, { projection: { _id: 1 } })
        .map((c) => c._id)
        .toArray();
      if (connectionIds.length === 0) return [];
      const found = await mappings
        .find({ connectionId: { $in: connectionIds }, state: { $in: [...SYNC_ON_CHANGE_STATES] } })
        .toArray();
      if (found.length === 0) return [];
      const projectOrgs = await projects
        .find({ _id: { $in: [...new Set(found.map((m) => m.projectId))] } }, { projection: { orgId: 1 } })
        .toArray();
      const enabled = new Set(
        await orgs
          .find({ _id: { $in: [...new Set(projectOrgs.map((p) => p.orgId))] }, 'features.dropbox': true }, { projection: { _id: 1 } })
          .map((o) => o._id)
          .toArray(),
      );
      const withFeature = new Set(projectOrgs.filter((p) => enabled.has(p.orgId)).map((p) => p._id));
      return found.filter((m) => withFeature.has(m.projectId));
    },

    async countLiveByConnection(connectionId: string): Promise<number> {
      return mappings.countDocuments({ connectionId, ...live });
    },

    /** How many mappings are in each state, every state named: one aggregate, for a metrics scrape. */
    async countByState(): Promise<Record<MappingState, number>> {
      const counts = Object.fromEntries(MAPPING_STATES.map((state) => [state, 0])) as Record<
        MappingState,
        number
      >;
      const groups = mappings.aggregate<{ _id: MappingState; n: number }>([
        { $group: { _id: '$state', n: { $sum: 1 } } },
      ]);
      for (const { _id, n } of await groups.toArray()) if (_id in counts) counts[_id] = n;
      return counts;
    },

    /**
     * Records what the workflow reports. An unmapped mapping stays unmapped: a late report from
     * a workflow that is winding down must not bring it back. Returns whether a record changed.
     */
    async recordState(id: string, update: MappingStateUpdate, now = new Date()): Promise<boolean> {
      const extra: Partial<Mapping> = {};
      if (update.lastError !== undefined) extra.lastError = update.lastError;
      if (update.lastSyncAt !== undefined) extra.lastSyncAt = update.lastSyncAt;
      const unmapping = update.state === 'unmapped';
      const result = await mappings.updateOne(
        unmapping ? { _id: id } : { _id: id, state: { $ne: 'unmapped' } },
        {
          $set: {
            ...extra,
            ...(unmapping ? unmappedFields(id, now) : { state: update.state, updatedAt: now }),
          },
        },
      );
      return result.matchedCount > 0;
    },

    /** Whether the mapping's token lacks the scope to download (see Mapping.contentScopeMissing). */
    async setContentScopeMissing(id: string, missing: boolean): Promise<void> {
      await mappings.updateOne(
        { _id: id, contentScopeMissing: missing ? { $ne: true } : true },
        { $set: { contentScopeMissing: missing } },
      );
    },

    /** A mapping taken back before its workflow started: nothing else refers to it. */
    async deleteUnstarted(id: string): Promise<void> {
      await mappings.deleteOne({ _id: id });
    },

    async markUnmapped(id: string, now = new Date()): Promise<Mapping> {
      const updated = await mappings.findOneAndUpdate(
        { _id: id },
        { $set: unmappedFields(id, now) },
        { returnDocument: 'after' },
      );
      if (!updated) throw new NotFoundError('mapping', id);
      return updated;
    },
  };
}

export type MappingsRepository = ReturnType<typeof createMappingsRepository>;
