/**
 * Bad request targets: ids in paths and bodies, query strings, Dropbox paths, unknown routes.
 * Each is a 400 naming the parameter (or the route's own code), never a query with it.
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
  expectStatus,
  type ProjectAdmin,
} from './fixtures';
import { type ApiHarness, startApiHarness } from './harness';

describe('request targets: ids, queries, paths, routes', () => {
  let h: ApiHarness;
  let admin: ProjectAdmin;
  let connectionId: string;
  let mappingId: string;

  before(async () => {
    h = await startApiHarness();
    admin = await createProjectAdmin(h);
    const account = dropboxAccount(h);
    h.emulator.addFolder(account.accountId, '/Site');
    connectionId = await connect(h, admin, account);
    const mapping = await h.call('POST', `${dropboxBase(admin)}/mappings`, {
      key: admin.key,
      body: { connectionId, dropboxPath: '/Site' },
    });
    expectStatus(mapping, 201);
    mappingId = mapping.body.id as string;
  });

  after(async () => {
    await h?.close();
  });

  it('refuses bad ids in paths and bodies, naming the parameter', async () => {
    const bad = 'not an id!';
    const b = dropboxBase(admin);
    assertInvalid(
      await h.call('PATCH', `/v1/orgs/${encodeURIComponent(bad)}`, { key: h.rootKey, body: { name: 'A' } }),
      'orgId',
    );
    assertInvalid(
      await h.call('POST', `/v1/orgs/${'x'.repeat(300)}/projects`, { key: h.rootKey, body: { name: 'A' } }),
      'orgId',
    );
    assertInvalid(
      await h.call('PUT', `/v1/projects/%24gt/members/${admin.userId}`, {
        key: h.rootKey,
        body: { role: 'admin' },
      }),
      'projectId',
    );
    assertInvalid(
      await h.call('PUT', `/v1/projects/${admin.projectId}/members/%7B%7D`, {
        key: h.rootKey,
        body: { role: 'admin' },
      }),
      'userId',
    );
    assertInvalid(
      await h.call('GET', `/v1/projects/%24where/dropbox/connections`, { key: admin.key }),
      'projectId',
    );
    assertInvalid(
      await h.call('GET', `${b}/connections/${encodeURIComponent(bad)}/folders`, { key: admin.key }),
      'connectionId',
    );
    assertInvalid(
      await h.call('DELETE', `${b}/connections/${encodeURIComponent(bad)}`, { key: admin.key }),
      'connectionId',
    );
    for (const [method, suffix] of [
      ['GET', ''],
      ['POST', '/pause'],
      ['POST', '/resume'],
      ['POST', '/sync'],
      ['GET', '/files'],
      ['GET', '/rejections'],
      ['DELETE', ''],
    ] as const) {
      assertInvalid(
        await h.call(method, `${b}/mappings/${encodeURIComponent(bad)}${suffix}`, { key: admin.key }),
        'mappingId',
      );
    }
    assertInvalid(
      await h.call('POST', `${b}/mappings`, {
        key: admin.key,
        body: { connectionId: bad, dropboxPath: '/Site' },
      }),
      'connectionId',
    );
  });

  it("answers well-formed ids of nothing with the route's own not-found code", async () => {
    const b = dropboxBase(admin);
    const nothing = mappingId.replace(/.$/u, (c) => (c === '0' ? '1' : '0'));
    assertError(
      await h.call('GET', `${b}/mappings/${nothing}`, { key: admin.key }),
      404,
      'mapping_not_found',
    );
    assertError(
      await h.call('GET', `${b}/connections/${nothing}/folders`, { key: admin.key }),
      404,
      'connection_not_found',
    );
    assertError(
      await h.call('POST', `${b}/mappings`, {
        key: admin.key,
        body: { connectionId: nothing, dropboxPath: '/Site' },
      }),
      404,
      'connection_not_found',
    );
  });

  it('refuses bad query strings, naming the parameter', async () => {
    const m = `${dropboxBase(admin)}/mappings/${mappingId}`;
    for (const limit of ['0', '1001', 'abc', '-1', '1.5']) {
      assertInvalid(await h.call('GET', `${m}/files?limit=${limit}`, { key: admin.key }), 'limit');
    }
    expectStatus(await h.call('GET', `${m}/files?limit=1000`, { key: admin.key }), 200);
    assertInvalid(await h.call('GET', `${m}/rejections?kind=everything`, { key: admin.key }), 'kind');
    assertInvalid(await h.call('GET', `${m}/files?sort=name`, { key: admin.key }), 'sort');
    assertInvalid(await h.call('GET', `${m}?verbose=1`, { key: admin.key }), 'verbose');
    assertInvalid(await h.call('GET', `${m}/files?limit=1&limit=2`, { key: admin.key }), 'limit');
  });

  it('refuses bad Dropbox paths: 400 invalid_path, or special_characters listing them', async () => {
    const b = dropboxBase(admin);
    for (const dropboxPath of ['/a//b', '/a/../b', '/./a']) {
      const res = await h.call('POST', `${b}/mappings`, {
        key: admin.key,
        body: { connectionId, dropboxPath },
      });
      assertError(res, 400, 'invalid_path');
    }
    assertError(
      await h.call('GET', `${b}/connections/${connectionId}/folders?path=/a//b`, { key: admin.key }),
      400,
      'invalid_path',
    );
    const special = await h.call('POST', `${b}/mappings`, {
      key: admin.key,
      body: { connectionId, dropboxPath: '/Site #1/Plans?' },
    });
    assertError(special, 400, 'special_characters');
    assert.deepEqual(special.body.error.details.characters, ['#', '?']);
    assert.match(special.body.error.message, /"#", "\?"/u);
    const target = await h.call('POST', `${b}/mappings`, {
      key: admin.key,
      body: { connectionId, dropboxPath: '/Site 1', targetFolder: 'Drawings/Plans #2?' },
    });
    assertError(target, 400, 'special_characters');
    assert.deepEqual(target.body.error.details, { field: 'targetFolder', characters: ['#', '?'] });
    const control = await h.call('POST', `${b}/mappings`, {
      key: admin.key,
      body: { connectionId, dropboxPath: '/Site\u0007' },
    });
    assertError(control, 400, 'special_characters');
    assert.match(control.body.error.message, /U\+0007/u);
    assertInvalid(
      await h.call('POST', `${b}/mappings`, {
        key: admin.key,
        body: { connectionId, dropboxPath: '/Site', targetFolder: 'a\nb' },
      }),
      'targetFolder',
    );
    assertInvalid(
      await h.call('POST', `${b}/mappings`, {
        key: admin.key,
        body: { connectionId, dropboxPath: '/Site', targetFolder: '  ' },
      }),
      'targetFolder',
    );
    const nowhere = await h.call('POST', `${b}/mappings`, {
      key: admin.key,
      body: { connectionId, dropboxPath: '/Nowhere' },
    });
    assertError(nowhere, 404, 'folder_not_found');
    assert.deepEqual(nowhere.body.error.details, { path: '/Nowhere', field: 'dropboxPath', in: 'body' });
  });

  it('answers unknown routes with 404 not_found in the error shape', async () => {
    assertError(await h.call('GET', '/v2/anything', { key: h.rootKey }), 404, 'not_found');
    assertError(await h.call('GET', '/nothing-here'), 404, 'not_found');
  });

  it('answers a documented path asked with another method with 405 and the methods it takes', async () => {
    const remove = await h.call('DELETE', '/v1/orgs', { key: h.rootKey });
    assertError(remove, 405, 'method_not_allowed');
    assert.equal(remove.headers.get('allow'), 'POST');
    const put = await h.call('PUT', '/healthz');
    assertError(put, 405, 'method_not_allowed');
    assert.equal(put.headers.get('allow'), 'GET, HEAD');
    // An id that is not an id names no resource: 404, whatever the method.
    assertError(await h.call('POST', '/v1/orgs/%7B%7D', { key: h.rootKey }), 404, 'not_found');
  });

  it('answers a keyless webhook path asked with another method with 405, not 401, without a key', async () => {
    for (const path of ['/v1/dropbox/webhook', '/v1/dropbox/webhook/some-app']) {
      const put = await h.call('PUT', path);
      assertError(put, 405, 'method_not_allowed');
      assert.equal(put.headers.get('allow'), 'GET, HEAD, POST');
    }
    // The keyed routes still ask for the key first.
    assertError(await h.call('DELETE', '/v1/orgs'), 401, 'unauthorized');
  });

  it('keeps answers JSON and hides the framework', async () => {
    const res = await h.call('GET', '/nothing-here');
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/u);
    assert.equal(res.headers.get('x-powered-by'), null);
  });
});
