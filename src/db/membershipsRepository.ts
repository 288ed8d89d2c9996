import type { Db } from 'mongodb';
import type { Membership, ProjectRole } from '../domain/types';
import { collections } from './collections';

export function membershipId(projectId: string, userId: string): string {
  return `${projectId}:${userId}`;
}

export function createMembershipsRepository(db: Db) {
  const { memberships } = collections(db);
  return {
    /** Upsert on the composite `_id`: setting a role twice, or concurrently, leaves one record. */
    async set(projectId: string, userId: string, role: ProjectRole, now = new Date()): Promise<Membership> {
      const _id = membershipId(projectId, userId);
      await memberships.updateOne(
        { _id },
        { $set: { role, updatedAt: now }, $setOnInsert: { projectId, userId } },
        { upsert: true },
      );
      return { _id, projectId, userId, role, updatedAt: now };
    },

    async get(projectId: string, userId: string): Promise<Membership | null> {
      return memberships.findOne({ _id: membershipId(projectId, userId) });
    },

    /** Every project role of a user, for the admin page's project list (index `userId`). */
    async listByUser(userId: string): Promise<Membership[]> {
      return memberships.find({ userId }).sort({ projectId: 1 }).toArray();
    },
  };
}

export type MembershipsRepository = ReturnType<typeof createMembershipsRepository>;
