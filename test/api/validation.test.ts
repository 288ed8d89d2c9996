/**
 * Bad bodies for every route that takes one: malformed JSON, unknown fields, wrong types,
 * MongoDB operators, over-long strings. Each is a 400 that names the field (ids, queries and
 * paths are in requestTargets.test.ts).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  assertError,
  assertInvalid,
  connect,
  createProjectAdmin,
  dropboxAccount,
  dropboxBase,
  type ProjectAdmin,
} from './fixtures';
import { type ApiHarness, startApiHarness } from './harness';

interface BodyRoute {
  name: string;
  method: string;
  path: () => string;
  key: () => string;
  valid: () => Record<string, unknown>;
  /** A string field, to be made too long. */
  stringField: string;
  maxLength: number;
}

describe('request validation', () => {
  let h: ApiHarness;
  let admin: ProjectAdmin;
  let connectionId: string;
  let routes: BodyRoute[];

  before(async () => {
    h = await startApiHarness();
    admin = await createProjectAdmin(h);
    const account = dropboxAccount(h);
    h.emulator.addFolder(account.accountId, '/Site');
    connectionId = await connect(h, admin, account);
    const root = () => h.rootKey;
    const adminKey = () => admin.key;
    routes = [
      {
        name: 'POST /v1/orgs',
        method: 'POST',
        path: () => '/v1/orgs',
        key: root,
        valid: () => ({ name: 'Acme', features: { dropbox: true } }),
        stringField: 'name',
        maxLength: 200,
      },
      {
        name: 'PATCH /v1/orgs/:orgId',
        method: 'PATCH',
        path: () => `/v1/orgs/${admin.orgId}`,
        key: root,
        valid: () => ({ name: 'Acme 2' }),
        stringField: 'name',
        maxLength: 200,
      },
      {
        name: 'POST /v1/orgs/:orgId/projects',
        method: 'POST',
        path: () => `/v1/orgs/${admin.orgId}/projects`,
        key: root,
        valid: () => ({ name: 'P' }),
        stringField: 'name',
        maxLength: 200,
      },
      {
        name: 'POST /v1/users',
        method: 'POST',
        path: () => '/v1/users',
        key: root,
        valid: () => ({ email: 'valid@example.com' }),
        stringField: 'email',
        maxLength: 254,
      },
      {
        name: 'PUT members',
        method: 'PUT',
        path: () => `/v1/projects/${admin.projectId}/members/${admin.userId}`,
        key: root,
        valid: () => ({ role: 'admin' }),
        stringField: 'role',
        maxLength: 5,
      },
      {
        name: 'POST connections',
        method: 'POST',
        path: () => `${dropboxBase(admin)}/connections`,
        key: adminKey,
        valid: () => ({ clientIdentification: 'a@example.com', accessToken: 'sl.x' }),
        stringField: 'accessToken',
        maxLength: 4096,
      },
      {
        name: 'PUT token',
        method: 'PUT',
        path: () => `${dropboxBase(admin)}/connections/${connectionId}/token`,
        key: adminKey,
        valid: () => ({ accessToken: 'sl.x' }),
        stringField: 'accessToken',
        maxLength: 4096,
      },
      {
        name: 'POST mappings',
        method: 'POST',
        path: () => `${dropboxBase(admin)}/mappings`,
        key: adminKey,
        valid: () => ({ connectionId, dropboxPath: '/Site', targetFolder: 'T' }),
        stringField: 'targetFolder',
        maxLength: 255,
      },
    ];
  });

  after(async () => {
    await h?.close();
  });

  const send = (
    r: BodyRoute,
    options: { body?: unknown; rawBody?: string; headers?: Record<string, string> },
  ) => h.call(r.method, r.path(), { key: r.key(), ...options });

  it('answers malformed JSON with 400 invalid_json on every route with a body', async () => {
    for (const r of routes) assertError(await send(r, { rawBody: '{"name": "x",' }), 400, 'invalid_json');
  });

  it('answers a body that is not JSON, or none, with 400 naming the problem', async () => {
    for (const r of routes) {
      assertError(
        await send(r, { rawBody: 'name=x', headers: { 'content-type': 'text/plain' } }),
        400,
        'invalid_request',
      );
      assertError(await h.call(r.method, r.path(), { key: r.key() }), 400, 'invalid_request');
      assertError(await send(r, { rawBody: '[1,2]' }), 400, 'invalid_request');
    }
  });

  it('refuses unknown fields and names them', async () => {
    for (const r of routes)
      assertInvalid(await send(r, { body: { ...r.valid(), isAdmin: true } }), 'isAdmin');
  });

  it('refuses fields in the body of a command that takes none, and takes an empty one', async () => {
    const ids = { mapping: 'a'.repeat(32), file: encodeURIComponent('id:a4ayc_80_OEAAAAAAAAAXw') };
    const base = dropboxBase(admin);
    const commands: [string, string][] = [
      ...['pause', 'resume', 'sync'].map((action): [string, string] => ['POST', `${base}/mappings/${ids.mapping}/${action}`]),
      ['DELETE', `${base}/mappings/${ids.mapping}`],
      ['DELETE', `${base}/connections/${'c'.repeat(32)}`],
      ['POST', `${base}/mappings/${ids.mapping}/files/${ids.file}/content-link`],
    ];
    for (const [method, path] of commands) {
      const invalid = await h.call(method, path, { key: admin.key, body: { path: '/Site/Sub' } });
      assertInvalid(invalid, 'path');
      // Past validation: that mapping (or connection) does not exist.
      assert.equal((await h.call(method, path, { key: admin.key, body: {} })).status, 404, `${method} ${path}`);
      assert.equal((await h.call(method, path, { key: admin.key })).status, 404, `${method} ${path}`);
    }
  });

  it('refuses wrong types and names the field', async () => {
    for (const r of routes)
      assertInvalid(await send(r, { body: { ...r.valid(), [r.stringField]: 42 } }), r.stringField);
    assertInvalid(
      await h.call('POST', '/v1/orgs', { key: h.rootKey, body: { name: 'A', features: { dropbox: 'yes' } } }),
      'features.dropbox',
    );
    assertInvalid(await h.call('POST', '/v1/orgs', { key: h.rootKey, body: { name: 'A' } }), 'features');
    assertInvalid(
      await h.call('PUT', `/v1/projects/${admin.projectId}/members/${admin.userId}`, {
        key: h.rootKey,
        body: { role: 'owner' },
      }),
      'role',
    );
    assertInvalid(
      await h.call('POST', '/v1/users', { key: h.rootKey, body: { email: 'not-an-email' } }),
      'email',
    );
  });

  it('refuses MongoDB operator objects anywhere, before they reach a query', async () => {
    for (const r of routes) {
      assertInvalid(await send(r, { body: { ...r.valid(), [r.stringField]: { $gt: '' } } }), r.stringField);
    }
    assertInvalid(
      await h.call('POST', `${dropboxBase(admin)}/mappings`, {
        key: admin.key,
        body: { connectionId: { $ne: null }, dropboxPath: '/Site' },
      }),
      'connectionId',
    );
    assertInvalid(
      await h.call('POST', '/v1/users', { key: h.rootKey, body: { email: { $regex: '.*' } } }),
      'email',
    );
    // In a query string, brackets are no syntax: the key is just unknown.
    assertInvalid(
      await h.call('GET', `${dropboxBase(admin)}/connections/${connectionId}/folders?path[$gt]=`, {
        key: admin.key,
      }),
      'path[$gt]',
    );
  });

  it('refuses over-long strings', async () => {
    for (const r of routes) {
      assertInvalid(
        await send(r, { body: { ...r.valid(), [r.stringField]: 'x'.repeat(r.maxLength + 1) } }),
        r.stringField,
      );
    }
    assertInvalid(
      await h.call('POST', `${dropboxBase(admin)}/mappings`, {
        key: admin.key,
        body: { connectionId, dropboxPath: `/${'a'.repeat(4100)}` },
      }),
      'dropboxPath',
    );
  });

  it('refuses a body over 100 kB with 413 payload_too_large', async () => {
    const res = await h.call('POST', '/v1/orgs', {
      key: h.rootKey,
      rawBody: JSON.stringify({ name: 'x'.repeat(120_000) }),
    });
    assertError(res, 413, 'payload_too_large');
  });

  it('refuses a target folder that climbs out of the project, and a Dropbox path of only whitespace', async () => {
    const create = (body: Record<string, unknown>) =>
      h.call('POST', `${dropboxBase(admin)}/mappings`, { key: admin.key, body: { connectionId, ...body } });
    for (const targetFolder of ['../../etc/passwd', '..', 'a/../b', 'Drawings\\..\\x', '/Drawings', 'a//b'])
      assertInvalid(await create({ dropboxPath: '/Site', targetFolder }), 'targetFolder');
    for (const dropboxPath of ['\u3000', '   ', '\t'])
      assertInvalid(await create({ dropboxPath }), 'dropboxPath');
  });

  it('names at most 50 offending fields, and says how many more', async () => {
    const body: Record<string, unknown> = { name: 'Acme', features: { dropbox: true } };
    for (let i = 0; i < 3_000; i += 1) body[`extra${i}`] = i;
    const res = await h.call('POST', '/v1/orgs', { key: h.rootKey, body });
    assertError(res, 400, 'invalid_request');
    const details = res.body.error.details as { fields: unknown[]; moreFields: number };
    assert.equal(details.fields.length, 50);
    assert.equal(details.moreFields, 2_950);
  });

  it('answers a URL over 16 kB with 431 in the error shape, not an empty answer', async () => {
    const res = await fetch(`${h.url}${dropboxBase(admin)}/connections/${connectionId}/folders?path=/${'a'.repeat(20_000)}`, {
      headers: { authorization: `Bearer ${admin.key}` },
    });
    assert.equal(res.status, 431);
    const body = (await res.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'headers_too_large');
  });
});
