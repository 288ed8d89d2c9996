import type { Db } from 'mongodb';
import { createConnectionsRepository } from './connectionsRepository';
import { createFileContentsRepository } from './fileContentsRepository';
import { createFilesRepository } from './filesRepository';
import { createListingPagesRepository } from './listingPagesRepository';
import { createMappingsRepository } from './mappingsRepository';
import { createMembershipsRepository } from './membershipsRepository';
import { createOAuthStatesRepository } from './oauthStatesRepository';
import { createOrgsRepository } from './orgsRepository';
import { createProjectsRepository } from './projectsRepository';
import { createRefreshLeasesRepository } from './refreshLeasesRepository';
import { createRejectionsRepository } from './rejectionsRepository';
import { createUsersRepository } from './usersRepository';

/** Every repository over one database; the API and the worker each build theirs at start. */
export function createRepositories(db: Db) {
  return {
    orgs: createOrgsRepository(db),
    projects: createProjectsRepository(db),
    users: createUsersRepository(db),
    memberships: createMembershipsRepository(db),
    connections: createConnectionsRepository(db),
    mappings: createMappingsRepository(db),
    files: createFilesRepository(db),
    contents: createFileContentsRepository(db),
    rejections: createRejectionsRepository(db),
    listingPages: createListingPagesRepository(db),
    refreshLeases: createRefreshLeasesRepository(db),
    oauthStates: createOAuthStatesRepository(db),
  };
}

export type Repositories = ReturnType<typeof createRepositories>;
