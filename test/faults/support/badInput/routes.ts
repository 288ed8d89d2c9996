/** The tenants a run sets up, and every route of the contract with a valid request for it. */
import type { DropboxTestAccount, ProjectAdmin } from '../../../api/fixtures';

export interface Tenant {
  admin: ProjectAdmin;
  account: DropboxTestAccount;
  connectionId: string;
  mappingId: string;
  /** A file id as the files list shows it ("id:…"); no file need exist for bad input to be refused. */
  fileId: string;
}

export type IdName = 'orgId' | 'projectId' | 'userId' | 'connectionId' | 'mappingId' | 'fileId';
export type Ids = Record<IdName, string>;

export interface Route {
  name: string;
  method: string;
  management: boolean;
  params: readonly IdName[];
  /** Ids are inserted as they are: encode them first where needed. */
  path(ids: Ids): string;
  /** A valid body for tenant `t`, whose connection `connectionId` is (for mappings). */
  body?(t: Tenant, connectionId: string): Record<string, unknown>;
  /** Body fields whose absence makes the body invalid (all top-level ones when left out). */
  required?: readonly string[];
  /** Query parameters the route accepts. */
  query?: readonly string[];
}

const dropboxBase = (ids: Ids) => `/v1/projects/${ids.projectId}/dropbox`;
/** A folder that exists in every tenant's Dropbox and is not mapped: a valid body maps it. */
export const UNMAPPED = '/Extra';
export const MAPPED = '/Site A';

export const ROUTES: readonly Route[] = [
  {
    name: 'POST /v1/orgs',
    method: 'POST',
    management: true,
    params: [],
    path: () => '/v1/orgs',
    body: () => ({ name: 'Org probe', features: { dropbox: true } }),
  },
  {
    name: 'PATCH /v1/orgs/:orgId',
    method: 'PATCH',
    management: true,
    params: ['orgId'],
    path: (i) => `/v1/orgs/${i.orgId}`,
    body: () => ({ name: 'Renamed', features: { dropbox: false } }),
    // Either field alone is a valid update; only the feature's own flag is required.
    required: ['features.dropbox'],
  },
  {
    name: 'POST /v1/orgs/:orgId/projects',
    method: 'POST',
    management: true,
    params: ['orgId'],
    path: (i) => `/v1/orgs/${i.orgId}/projects`,
    body: () => ({ name: 'Project probe' }),
  },
  {
    name: 'POST /v1/users',
    method: 'POST',
    management: true,
    params: [],
    path: () => '/v1/users',
    body: () => ({ email: 'probe.user@example.com' }),
  },
  {
    name: 'PUT /v1/projects/:projectId/members/:userId',
    method: 'PUT',
    management: true,
    params: ['projectId', 'userId'],
    path: (i) => `/v1/projects/${i.projectId}/members/${i.userId}`,
    body: () => ({ role: 'admin' }),
  },
  {
    name: 'POST …/connections',
    method: 'POST',
    management: false,
    params: ['projectId'],
    path: (i) => `${dropboxBase(i)}/connections`,
    body: (t) => ({ clientIdentification: t.account.email, accessToken: t.account.token }),
  },
  {
    name: 'GET …/connections',
    method: 'GET',
    management: false,
    params: ['projectId'],
    path: (i) => `${dropboxBase(i)}/connections`,
  },
  {
    name: 'PUT …/connections/:c/token',
    method: 'PUT',
    management: false,
    params: ['projectId', 'connectionId'],
    path: (i) => `${dropboxBase(i)}/connections/${i.connectionId}/token`,
    body: (t) => ({ accessToken: t.account.token }),
  },
  {
    name: 'DELETE …/connections/:c',
    method: 'DELETE',
    management: false,
    params: ['projectId', 'connectionId'],
    path: (i) => `${dropboxBase(i)}/connections/${i.connectionId}`,
  },
  {
    name: 'GET …/connections/:c/folders',
    method: 'GET',
    management: false,
    params: ['projectId', 'connectionId'],
    path: (i) => `${dropboxBase(i)}/connections/${i.connectionId}/folders`,
    query: ['path'],
  },
  {
    name: 'POST …/mappings',
    method: 'POST',
    management: false,
    params: ['projectId'],
    path: (i) => `${dropboxBase(i)}/mappings`,
    body: (_t, connectionId) => ({ connectionId, dropboxPath: UNMAPPED }),
  },
  {
    name: 'GET …/mappings',
    method: 'GET',
    management: false,
    params: ['projectId'],
    path: (i) => `${dropboxBase(i)}/mappings`,
  },
  {
    name: 'GET …/mappings/:m',
    method: 'GET',
    management: false,
    params: ['projectId', 'mappingId'],
    path: (i) => `${dropboxBase(i)}/mappings/${i.mappingId}`,
  },
  ...(['pause', 'resume', 'sync'] as const).map((action): Route => ({
    name: `POST …/mappings/:m/${action}`,
    method: 'POST',
    management: false,
    params: ['projectId', 'mappingId'],
    path: (i) => `${dropboxBase(i)}/mappings/${i.mappingId}/${action}`,
  })),
  {
    name: 'DELETE …/mappings/:m',
    method: 'DELETE',
    management: false,
    params: ['projectId', 'mappingId'],
    path: (i) => `${dropboxBase(i)}/mappings/${i.mappingId}`,
  },
  {
    name: 'GET …/mappings/:m/files',
    method: 'GET',
    management: false,
    params: ['projectId', 'mappingId'],
    path: (i) => `${dropboxBase(i)}/mappings/${i.mappingId}/files`,
    query: ['limit', 'after'],
  },
  {
    name: 'GET …/mappings/:m/rejections',
    method: 'GET',
    management: false,
    params: ['projectId', 'mappingId'],
    path: (i) => `${dropboxBase(i)}/mappings/${i.mappingId}/rejections`,
    query: ['limit', 'after', 'kind'],
  },
  {
    name: 'GET …/mappings/:m/files/:f/content',
    method: 'GET',
    management: false,
    params: ['projectId', 'mappingId', 'fileId'],
    path: (i) => `${dropboxBase(i)}/mappings/${i.mappingId}/files/${i.fileId}/content`,
  },
];
