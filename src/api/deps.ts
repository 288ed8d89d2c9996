import type { DropboxClient } from '../dropbox/client';
import type { CredentialsProvider } from '../dropbox/credentials/credentialsProvider';
import type { PathPolicy } from '../domain/pathPolicy';
import type { ConnectionsRepository } from '../db/connectionsRepository';
import type { FileContentsRepository } from '../db/fileContentsRepository';
import type { FilesRepository } from '../db/filesRepository';
import type { MappingsRepository } from '../db/mappingsRepository';
import type { MembershipsRepository } from '../db/membershipsRepository';
import type { OAuthStatesRepository } from '../db/oauthStatesRepository';
import type { OrgsRepository } from '../db/orgsRepository';
import type { ProjectsRepository } from '../db/projectsRepository';
import type { RejectionsRepository } from '../db/rejectionsRepository';
import type { UsersRepository } from '../db/usersRepository';
import type { TokenCipher } from '../security/tokenCipher';
import type { ContentLinks } from '../security/contentLinks';
import type { Logger } from '../log';
import type { ReadinessCheck } from './health';
import type { SyncWorkflows } from './syncWorkflows';
import type { DropboxAppSecrets } from './webhookRouter';

/**
 * The parts of the repositories the API uses. `createRepositories(db)` gives real ones; naming
 * only what is used keeps the routers honest about what they touch.
 */
export interface ApiRepositories {
  orgs: Pick<OrgsRepository, 'create' | 'get' | 'update'>;
  projects: Pick<ProjectsRepository, 'create' | 'get' | 'listIdsByOrg'>;
  users: Pick<UsersRepository, 'create' | 'findByApiKey' | 'get'>;
  memberships: Pick<MembershipsRepository, 'set' | 'get' | 'listByUser'>;
  connections: Pick<
    ConnectionsRepository,
    | 'create'
    | 'get'
    | 'getById'
    | 'findByAccount'
    | 'listByAccount'
    | 'listByProject'
    | 'replaceToken'
    | 'delete'
    | 'findAppSecret'
    | 'setChangesCursor'
    | 'markDeleting'
    | 'clearDeleting'
  >;
  oauthStates: Pick<OAuthStatesRepository, 'create' | 'take'>;
  mappings: Pick<
    MappingsRepository,
    | 'create'
    | 'get'
    | 'listByProject'
    | 'listLiveByConnection'
    | 'countLiveByConnection'
    | 'markUnmapped'
    | 'deleteUnstarted'
    | 'listSyncOnChangeByAccount'
    | 'listInStateByProjects'
    | 'countByState'
  >;
  files: Pick<FilesRepository, 'list' | 'listNewest' | 'countLive'>;
  rejections: Pick<RejectionsRepository, 'list' | 'counts'>;
  contents: Pick<
    FileContentsRepository,
    'getFile' | 'contentOf' | 'contentOfFile' | 'openDownload' | 'counts'
  >;
}

export type TokenSealer = Pick<TokenCipher, 'seal' | 'open'>;

/** Everything the app is built over; tests pass the same kinds of things, pointed at test servers. */
export interface AppDeps {
  repos: ApiRepositories;
  dropbox: DropboxClient;
  syncWorkflows: SyncWorkflows;
  cipher: TokenSealer;
  /** Every Dropbox call on a stored connection gets its access token here. */
  credentials: CredentialsProvider;
  pathPolicy: PathPolicy;
  config: {
    rootApiKey: string;
    /** The service's own Dropbox app: "Connect with Dropbox" is on when key and secret are set. */
    dropbox?: { appKey?: string | undefined; appSecret?: string | undefined; oauthUrl: string };
    /** Where Dropbox sends the browser back to: `${publicUrl}/v1/dropbox/oauth/callback`. */
    publicUrl?: string;
    /** The Temporal Web UI, for links to a mapping's workflow; no links when absent. */
    temporalUi?: { url: string; namespace: string } | undefined;
  };
  log: Logger;
  readiness: ReadinessCheck;
  /** Verifies Dropbox's webhook notifications. */
  dropboxApps: DropboxAppSecrets;
  /** Signed, expiring download links for the admin page. */
  contentLinks: ContentLinks;
}
