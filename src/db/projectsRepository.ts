import type { Db } from 'mongodb';
import type { Project } from '../domain/types';
import { collections } from './collections';
import { newId } from './ids';

export function createProjectsRepository(db: Db) {
  const { projects } = collections(db);
  return {
    /** The caller checks that the organization exists: there are no foreign keys to do it. */
    async create(input: { orgId: string; name: string }, now = new Date()): Promise<Project> {
      const project: Project = { _id: newId(), orgId: input.orgId, name: input.name, createdAt: now };
      await projects.insertOne(project);
      return project;
    },

    /** The ids of the organization's projects (through the `orgId` index). */
    async listIdsByOrg(orgId: string): Promise<string[]> {
      return projects
        .find({ orgId }, { projection: { _id: 1 } })
        .map((p) => p._id)
        .toArray();
    },

    async get(id: string): Promise<Project | null> {
      return projects.findOne({ _id: id });
    },
  };
}

export type ProjectsRepository = ReturnType<typeof createProjectsRepository>;
