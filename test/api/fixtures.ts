/** Organizations, projects, users and Dropbox accounts for API tests, made through the API itself. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { TokenOptions } from '../../src/dev/dropboxEmulator/index';
import type { ApiAnswer, ApiHarness } from './harness';

export interface TestUser {
  userId: string;
  key: string;
  email: string;
}

export interface ProjectAdmin extends TestUser {
  orgId: string;
  projectId: string;
}

const unique = () => randomBytes(4).toString('hex');

/** Asserts the status and the error body's shape: `{"error": {code, message, details?}}` and nothing else. */
export function assertError(answer: ApiAnswer, status: number, code: string): void {
  assert.equal(answer.status, status, `expected ${status} ${code}, got ${answer.status}: ${answer.text}`);
  assert.deepEqual(Object.keys(answer.body as object), ['error'], answer.text);
  const error = (answer.body as { error: Record<string, unknown> }).error;
  assert.equal(error.code, code, answer.text);
  assert.equal(typeof error.message, 'string');
  assert.ok((error.message as string).length > 0);
  for (const key of Object.keys(error))
    assert.ok(['code', 'message', 'details'].includes(key), `unexpected "${key}"`);
  assert.ok(!/\n\s+at /u.test(answer.text), 'no stack traces');
}

export function expectStatus(answer: ApiAnswer, status: number): void {
  assert.equal(answer.status, status, `expected ${status}, got ${answer.status}: ${answer.text}`);
}

export async function createOrg(h: ApiHarness, dropbox = true): Promise<string> {
  const res = await h.call('POST', '/v1/orgs', {
    key: h.rootKey,
    body: { name: `Org ${unique()}`, features: { dropbox } },
  });
  expectStatus(res, 201);
  return res.body.id as string;
}

export async function createProject(h: ApiHarness, orgId: string): Promise<string> {
  const res = await h.call('POST', `/v1/orgs/${orgId}/projects`, {
    key: h.rootKey,
    body: { name: `Project ${unique()}` },
  });
  expectStatus(res, 201);
  return res.body.id as string;
}

export async function createUser(h: ApiHarness): Promise<TestUser> {
  const email = `user-${unique()}@example.com`;
  const res = await h.call('POST', '/v1/users', { key: h.rootKey, body: { email } });
  expectStatus(res, 201);
  return { userId: res.body.id as string, key: res.body.apiKey as string, email };
}

export async function setRole(
  h: ApiHarness,
  projectId: string,
  userId: string,
  role: 'admin' | 'member',
): Promise<void> {
  const res = await h.call('PUT', `/v1/projects/${projectId}/members/${userId}`, {
    key: h.rootKey,
    body: { role },
  });
  expectStatus(res, 200);
}

/** A new organization (Dropbox feature on unless told), a project in it, and an admin of that project. */
export async function createProjectAdmin(
  h: ApiHarness,
  options: { dropbox?: boolean; orgId?: string } = {},
): Promise<ProjectAdmin> {
  const orgId = options.orgId ?? (await createOrg(h, options.dropbox ?? true));
  const projectId = await createProject(h, orgId);
  const user = await createUser(h);
  await setRole(h, projectId, user.userId, 'admin');
  return { ...user, orgId, projectId };
}

export interface DropboxTestAccount {
  accountId: string;
  email: string;
  token: string;
}

/** An emulated Dropbox account and a token for it (both scopes unless told). */
export function dropboxAccount(
  h: ApiHarness,
  email?: string,
  tokenOptions?: TokenOptions,
): DropboxTestAccount {
  const account = h.emulator.addAccount({ email: email ?? `dropbox-${unique()}@example.com` });
  return {
    accountId: account.accountId,
    email: account.email,
    token: h.emulator.issueToken(account.accountId, tokenOptions),
  };
}

export async function connect(
  h: ApiHarness,
  admin: ProjectAdmin,
  account: DropboxTestAccount,
): Promise<string> {
  const res = await h.call('POST', `/v1/projects/${admin.projectId}/dropbox/connections`, {
    key: admin.key,
    body: { clientIdentification: account.email, accessToken: account.token },
  });
  expectStatus(res, 201);
  return res.body.id as string;
}

export function dropboxBase(admin: { projectId: string }): string {
  return `/v1/projects/${admin.projectId}/dropbox`;
}

/** A 400 `invalid_request` that names `field` in its details and its message. */
export function assertInvalid(answer: ApiAnswer, field: string): void {
  assertError(answer, 400, 'invalid_request');
  const fields = (answer.body.error.details?.fields ?? []) as { field: string }[];
  assert.ok(
    fields.some((f) => f.field === field),
    `"${field}" named in ${answer.text}`,
  );
  assert.ok(
    (answer.body.error.message as string).includes(`"${field}"`),
    `message names "${field}": ${answer.text}`,
  );
}
