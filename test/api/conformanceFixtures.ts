/**
 * Data for the generated API test: an admin with a connection and synced mappings, and spares
 * for the routes that delete or demote what the others read; and the schemathesis
 * configuration that points each route at them.
 */
import assert from 'node:assert/strict';
import { eventually } from '../support/eventually';
import {
  connect,
  createOrg,
  createProject,
  createProjectAdmin,
  createUser,
  dropboxAccount,
  dropboxBase,
  expectStatus,
  type ProjectAdmin,
} from './fixtures';
import type { ApiHarness } from './harness';

const SITE = '/Projects/Site A';

export interface ConformanceFixtures {
  admin: ProjectAdmin;
  /** Routes that change what others read get data of their own. */
  spareOrgId: string;
  spareProjectId: string;
  spareUserId: string;
  connectionId: string;
  spareConnectionId: string;
  mappingId: string;
  spareMappingId: string;
  /** plan.pdf in the mapping: the content route serves it. */
  fileId: string;
}

export async function createConformanceFixtures(h: ApiHarness): Promise<ConformanceFixtures> {
  const admin = await createProjectAdmin(h);
  const account = dropboxAccount(h);
  h.emulator.addFile(account.accountId, `${SITE}/plan.pdf`, { content: 'plan' });
  h.emulator.addFile(account.accountId, `${SITE}/plan#2?.pdf`, { content: 'bad name' });
  h.emulator.addFolder(account.accountId, `${SITE}/Photos`);
  h.emulator.addFolder(account.accountId, '/Projects/Site B');
  const connectionId = await connect(h, admin, account);
  const spareConnectionId = await connect(h, admin, dropboxAccount(h));
  const map = async (dropboxPath: string) => {
    const res = await h.call('POST', `${dropboxBase(admin)}/mappings`, {
      key: admin.key,
      body: { connectionId, dropboxPath },
    });
    expectStatus(res, 201);
    return res.body.id as string;
  };
  const mappingId = await map(SITE);
  const spareMappingId = await map('/Projects/Site B');
  // The first cycle has run: files and rejections have pages to show.
  const fileId = await eventually(async () => {
    const res = await h.call('GET', `${dropboxBase(admin)}/mappings/${mappingId}/files`, { key: admin.key });
    expectStatus(res, 200);
    assert.equal(res.body.files.length, 1);
    return res.body.files[0].id as string;
  });
  // Its content is copied beside the cycle: the content route has bytes to serve.
  await eventually(async () => {
    const res = await fetch(
      `${h.url}${dropboxBase(admin)}/mappings/${mappingId}/files/${encodeURIComponent(fileId)}/content`,
      {
        headers: { authorization: `Bearer ${admin.key}` },
      },
    );
    assert.equal(res.status, 200, await res.text());
  });
  const spareOrgId = await createOrg(h);
  const spareProjectId = await createProject(h, spareOrgId);
  const spareUserId = (await createUser(h)).userId;
  return {
    admin,
    spareOrgId,
    spareProjectId,
    spareUserId,
    connectionId,
    spareConnectionId,
    mappingId,
    spareMappingId,
    fileId,
  };
}

const toml = (value: unknown): string =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
    ? `{ ${Object.entries(value)
        .map(([k, v]) => `${k} = ${toml(v)}`)
        .join(', ')} }`
    : JSON.stringify(value);

// What an invalid request may get: schemathesis's list, and the API's 413 and 431 for bodies
// and URLs over its limits.
const REJECTED = ['400', '401', '403', '404', '405', '406', '409', '413', '415', '422', '428', '429', '431'];

/**
 * A valid request may still be refused for what no schema can say: whether Dropbox takes the
 * token (422), whether the path is a folder or holds characters the project refuses (400), or
 * whether the id exists (404), whether a paging `after` is a `next` of that listing (400),
 * whether an OAuth `state` is one the API issued (400). Only these routes may answer a valid
 * request with 400 or 422.
 */
const ACCEPTED = ['2xx', '401', '403', '404', '409'];
const refusedByDropbox = { positive_data_acceptance: { 'expected-statuses': [...ACCEPTED, '422'] } };
const refusedByPath = { positive_data_acceptance: { 'expected-statuses': [...ACCEPTED, '400', '422'] } };
/** A page's `after` must be a `next` that such a page gave (else 400). */
const refusedByCursor = { positive_data_acceptance: { 'expected-statuses': [...ACCEPTED, '400'] } };
/**
 * The OAuth callback's `state` is single-use and issued by POST …/oauth/start: a generated one is
 * never such a state (400 invalid_oauth_state); a real one would be answered with 303.
 */
const refusedByState = { positive_data_acceptance: { 'expected-statuses': [...ACCEPTED, '303', '400'] } };

/**
 * Management routes take the root key, Dropbox routes the admin's; path parameters name the
 * fixtures, with spares for the routes that delete or demote what the others read. The first
 * entry that matches an operation wins.
 */
export function schemathesisConfig(rootKey: string, f: ConformanceFixtures): string {
  const P = '/v1/projects/{projectId}/dropbox';
  const root = { Authorization: `Bearer ${rootKey}` };
  const admin = { Authorization: `Bearer ${f.admin.key}` };
  const project = { projectId: f.admin.projectId };
  const operations: Record<string, unknown>[] = [
    { 'include-path': '/v1/orgs/{orgId}', headers: root, parameters: { orgId: f.spareOrgId } },
    {
      'include-path': '/v1/projects/{projectId}/members/{userId}',
      headers: root,
      parameters: { projectId: f.spareProjectId, userId: f.spareUserId },
    },
    { 'include-tag': 'Management', headers: root, parameters: { orgId: f.admin.orgId } },
    // GET /v1/me takes any user's key; the root key is not a user's.
    { 'include-tag': 'Account', headers: admin },
    {
      'include-path': `${P}/connections/{connectionId}`,
      'include-method': 'DELETE',
      headers: admin,
      parameters: { ...project, connectionId: f.spareConnectionId },
    },
    {
      'include-path': `${P}/mappings/{mappingId}`,
      'include-method': 'DELETE',
      headers: admin,
      parameters: { ...project, mappingId: f.spareMappingId },
    },
    {
      'include-name': [`POST ${P}/connections`, `PUT ${P}/connections/{connectionId}/token`],
      headers: admin,
      parameters: { ...project, connectionId: f.connectionId },
      checks: refusedByDropbox,
    },
    {
      'include-name': [`GET ${P}/connections/{connectionId}/folders`, `POST ${P}/mappings`],
      headers: admin,
      parameters: { ...project, connectionId: f.connectionId },
      checks: refusedByPath,
    },
    {
      'include-name': [`GET ${P}/mappings/{mappingId}/files`, `GET ${P}/mappings/{mappingId}/rejections`],
      headers: admin,
      parameters: { ...project, mappingId: f.mappingId },
      checks: refusedByCursor,
    },
    { 'include-name': 'GET /v1/dropbox/oauth/callback', checks: refusedByState },
    {
      'include-tag-regex': '^(Connections|Mappings)$',
      headers: admin,
      // Every path parameter named: one left to chance would never name a file.
      parameters: { ...project, connectionId: f.connectionId, mappingId: f.mappingId, fileId: f.fileId },
    },
  ];
  return [
    `[checks.negative_data_rejection]\nexpected-statuses = ${toml(REJECTED)}\n`,
    ...operations.map(
      (op) =>
        `[[operations]]\n${Object.entries(op)
          .map(([k, v]) => `${k} = ${toml(v)}`)
          .join('\n')}\n`,
    ),
  ].join('\n');
}
