/**
 * Who may call what: every Dropbox route against every kind of outsider, and the management
 * routes against users. Real ids of a real connection and mapping are used, so a refusal is
 * never an accident of a missing object.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FEATURE_DISABLED_MESSAGE } from '../../src/api/projectAccess';
import {
  assertError,
  connect,
  createOrg,
  createProject,
  createProjectAdmin,
  createUser,
  dropboxAccount,
  expectStatus,
  setRole,
  type ProjectAdmin,
} from './fixtures';
import { type ApiHarness, startApiHarness } from './harness';

interface Route {
  method: string;
  path: string;
  body?: unknown;
}

describe('authorization', () => {
  let h: ApiHarness;
  let admin: ProjectAdmin;
  let routes: (projectId: string) => Route[];
  const callers: Record<string, { key: string | null; status: number; code: string; message?: string }> = {};

  before(async () => {
    h = await startApiHarness();
    admin = await createProjectAdmin(h);
    const account = dropboxAccount(h);
    h.emulator.addFolder(account.accountId, '/Site');
    const connectionId = await connect(h, admin, account);
    const mapping = await h.call('POST', `/v1/projects/${admin.projectId}/dropbox/mappings`, {
      key: admin.key,
      body: { connectionId, dropboxPath: '/Site' },
    });
    expectStatus(mapping, 201);
    const mappingId = mapping.body.id as string;
    const other = dropboxAccount(h);

    routes = (projectId) => {
      const p = `/v1/projects/${projectId}/dropbox`;
      const c = `${p}/connections/${connectionId}`;
      const m = `${p}/mappings/${mappingId}`;
      return [
        {
          method: 'POST',
          path: `${p}/connections`,
          body: { clientIdentification: other.email, accessToken: other.token },
        },
        { method: 'GET', path: `${p}/connections` },
        { method: 'PUT', path: `${c}/token`, body: { accessToken: other.token } },
        { method: 'DELETE', path: c },
        { method: 'GET', path: `${c}/folders?path=/` },
        { method: 'POST', path: `${p}/mappings`, body: { connectionId, dropboxPath: '/Site' } },
        { method: 'GET', path: `${p}/mappings` },
        { method: 'GET', path: m },
        { method: 'POST', path: `${m}/pause` },
        { method: 'POST', path: `${m}/resume` },
        { method: 'POST', path: `${m}/sync` },
        { method: 'DELETE', path: m },
        { method: 'GET', path: `${m}/files?limit=10` },
        { method: 'GET', path: `${m}/rejections?kind=subfolder` },
      ];
    };

    const member = await createUser(h);
    await setRole(h, admin.projectId, member.userId, 'member');
    const otherProjectAdmin = await createProjectAdmin(h, { orgId: admin.orgId });
    const otherOrgAdmin = await createProjectAdmin(h);
    const noRole = await createUser(h);

    Object.assign(callers, {
      'no key': { key: null, status: 401, code: 'unauthorized' },
      'an unknown key': { key: `nope-${'x'.repeat(40)}`, status: 401, code: 'unauthorized' },
      'a member of the project': { key: member.key, status: 403, code: 'forbidden' },
      'an admin of another project of the organization': {
        key: otherProjectAdmin.key,
        status: 403,
        code: 'forbidden',
      },
      'an admin in another organization': { key: otherOrgAdmin.key, status: 403, code: 'forbidden' },
      'a user with no role anywhere': { key: noRole.key, status: 403, code: 'forbidden' },
      'the root key': { key: h.rootKey, status: 403, code: 'forbidden' },
    });
  });

  after(async () => {
    await h?.close();
  });

  it("refuses every Dropbox route to no key, unknown keys, members, other projects' and organizations' admins", async () => {
    for (const [who, expected] of Object.entries(callers)) {
      for (const route of routes(admin.projectId)) {
        const res = await h.call(route.method, route.path, {
          key: expected.key,
          ...(route.body ? { body: route.body } : {}),
        });
        assert.equal(
          res.status,
          expected.status,
          `${who}: ${route.method} ${route.path} → ${res.status} ${res.text}`,
        );
        assertError(res, expected.status, expected.code);
      }
    }
  });

  it('answers an unknown project like a forbidden one, so ids cannot be probed', async () => {
    for (const route of routes('0'.repeat(32))) {
      assertError(
        await h.call(route.method, route.path, {
          key: admin.key,
          ...(route.body ? { body: route.body } : {}),
        }),
        403,
        'forbidden',
      );
    }
  });

  it('answers 403 feature_disabled with the help-page message when the organization lacks the feature', async () => {
    const off = await createProjectAdmin(h, { dropbox: false });
    for (const route of routes(off.projectId)) {
      const res = await h.call(route.method, route.path, {
        key: off.key,
        ...(route.body ? { body: route.body } : {}),
      });
      assertError(res, 403, 'feature_disabled');
      assert.equal(res.body.error.message, FEATURE_DISABLED_MESSAGE);
    }
    // Turning the feature on opens the routes at once; a member of that org still gets plain 403.
    expectStatus(
      await h.call('PATCH', `/v1/orgs/${off.orgId}`, {
        key: h.rootKey,
        body: { features: { dropbox: true } },
      }),
      200,
    );
    expectStatus(
      await h.call('GET', `/v1/projects/${off.projectId}/dropbox/connections`, { key: off.key }),
      200,
    );
  });

  it('keeps feature_disabled from non-admins: they get plain forbidden', async () => {
    const orgId = await createOrg(h, false);
    const projectId = await createProject(h, orgId);
    const member = await createUser(h);
    await setRole(h, projectId, member.userId, 'member');
    assertError(
      await h.call('GET', `/v1/projects/${projectId}/dropbox/mappings`, { key: member.key }),
      403,
      'forbidden',
    );
  });

  it('lets the admin through on the same routes', async () => {
    expectStatus(
      await h.call('GET', `/v1/projects/${admin.projectId}/dropbox/connections`, { key: admin.key }),
      200,
    );
    expectStatus(
      await h.call('GET', `/v1/projects/${admin.projectId}/dropbox/mappings`, { key: admin.key }),
      200,
    );
  });

  it('keeps the management routes to the root key: users get 403, no key 401', async () => {
    const management: Route[] = [
      { method: 'POST', path: '/v1/orgs', body: { name: 'X', features: { dropbox: true } } },
      { method: 'PATCH', path: `/v1/orgs/${admin.orgId}`, body: { name: 'Y' } },
      { method: 'POST', path: `/v1/orgs/${admin.orgId}/projects`, body: { name: 'Z' } },
      { method: 'POST', path: '/v1/users', body: { email: 'someone@example.com' } },
      {
        method: 'PUT',
        path: `/v1/projects/${admin.projectId}/members/${admin.userId}`,
        body: { role: 'member' },
      },
    ];
    for (const route of management) {
      assertError(
        await h.call(route.method, route.path, { key: admin.key, body: route.body }),
        403,
        'forbidden',
      );
      assertError(await h.call(route.method, route.path, { body: route.body }), 401, 'unauthorized');
      assertError(
        await h.call(route.method, route.path, {
          body: route.body,
          headers: { authorization: `Basic ${h.rootKey}` },
        }),
        401,
        'unauthorized',
      );
    }
  });

  it("answers the management routes' own not-found and conflict codes", async () => {
    const missingOrg = 'f'.repeat(32);
    assertError(
      await h.call('PATCH', `/v1/orgs/${missingOrg}`, { key: h.rootKey, body: { name: 'Q' } }),
      404,
      'org_not_found',
    );
    assertError(
      await h.call('POST', `/v1/orgs/${missingOrg}/projects`, { key: h.rootKey, body: { name: 'Q' } }),
      404,
      'org_not_found',
    );
    assertError(
      await h.call('PUT', `/v1/projects/${missingOrg}/members/${admin.userId}`, {
        key: h.rootKey,
        body: { role: 'admin' },
      }),
      404,
      'project_not_found',
    );
    assertError(
      await h.call('PUT', `/v1/projects/${admin.projectId}/members/${missingOrg}`, {
        key: h.rootKey,
        body: { role: 'admin' },
      }),
      404,
      'user_not_found',
    );
    assertError(
      await h.call('POST', '/v1/users', { key: h.rootKey, body: { email: admin.email } }),
      409,
      'email_taken',
    );
    assertError(
      await h.call('POST', '/v1/users', { key: h.rootKey, body: { email: admin.email.toUpperCase() } }),
      409,
      'email_taken',
    );
  });
});
