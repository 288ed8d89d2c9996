import type { Db } from 'mongodb';
import type { Organization } from '../domain/types';
import { collections } from './collections';
import { NotFoundError } from './errors';
import { newId } from './ids';

export type OrgFeatures = Organization['features'];

export function createOrgsRepository(db: Db) {
  const { orgs } = collections(db);
  return {
    async create(input: { name: string; features: OrgFeatures }, now = new Date()): Promise<Organization> {
      const org: Organization = {
        _id: newId(),
        name: input.name,
        features: { ...input.features },
        createdAt: now,
        updatedAt: now,
      };
      await orgs.insertOne(org);
      return org;
    },

    async get(id: string): Promise<Organization | null> {
      return orgs.findOne({ _id: id });
    },

    /** Features merge: `{ features: { dropbox: false } }` leaves any other feature as it was. */
    async update(
      id: string,
      changes: { name?: string; features?: Partial<OrgFeatures> },
      now = new Date(),
    ): Promise<Organization> {
      const set: Record<string, unknown> = { updatedAt: now };
      if (changes.name !== undefined) set.name = changes.name;
      for (const [feature, enabled] of Object.entries(changes.features ?? {})) {
        if (enabled !== undefined) set[`features.${feature}`] = enabled;
      }
      const updated = await orgs.findOneAndUpdate({ _id: id }, { $set: set }, { returnDocument: 'after' });
      if (!updated) throw new NotFoundError('organization', id);
      return updated;
    },
  };
}

export type OrgsRepository = ReturnType<typeof createOrgsRepository>;
