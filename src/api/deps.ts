import type { DropboxClient } from '../dropbox/client';
import type { PathPolicy } from '../domain/pathPolicy';
import type { ConnectionsRepository } from '../db/connectionsRepository';
import type { FileContentsRepository } from '../db/fileContentsRepository';
import type { FilesRepository } from '../db/filesRepository';
import type { MappingsRepository } from '../db/mappingsRepository';
import type { MembershipsRepository } from '../db/membershipsRepository';
import type { OrgsRepository } from '../db/orgsRepository';
import type { ProjectsRepository } from '../db/projectsRepository';
import type { RejectionsRepository } from '../db/rejectionsRepository';
import type { UsersRepository } from '../db/usersRepository';
import type { SealedToken } from '../domain/types';
import type { Logger } from '../log';
import type { ReadinessCheck } from './health';
import type { SyncWorkflows } from './syncWorkflows';

/**
 * The parts of the repositories the API uses. `createRepositories(db)` gives real ones; naming
 * only what is used keeps the routers honest about what they touch.
 */
export interface ApiRepositories {
  orgs: Pick<OrgsRepository, 'create' | 'get' | 'update'>;
  projects: Pick<ProjectsRepository, 'create' | 'get'>;
  users: Pick<UsersRepository, 'create' | 'findByApiKey' | 'get'>;
  memberships: Pick<MembershipsRepository, 'set' | 'get'>;
  connections: Pick<ConnectionsRepository, 'create' | 'get' | 'listByProject' | 'replaceToken' | 'delete'>;
  mappings: Pick<
    MappingsRepository,
    'create' | 'get' | 'listByProject' | 'listLiveByConnection' | 'countLiveByConnection' | 'markUnmapped'
  >;
  files: Pick<FilesRepository, 'list' | 'countLive'>;
  rejections: Pick<RejectionsRepository, 'list' | 'counts'>;
  contents: Pick<FileContentsRepository, 'getFile' | 'openDownload' | 'counts'>;
}

export interface TokenSealer {
  seal(token: string): SealedToken;
  open(sealed: SealedToken): string;
}

/** Everything the app is built over; tests pass the same kinds of things, pointed at test servers. */
export interface AppDeps {
  repos: ApiRepositories;
  dropbox: DropboxClient;
  syncWorkflows: SyncWorkflows;
  cipher: TokenSealer;
  pathPolicy: PathPolicy;
  config: { rootApiKey: string };
  log: Logger;
  readiness: ReadinessCheck;
}
