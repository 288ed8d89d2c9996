/** `GET /v1/me` and the admin page's files, over the real app. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { meResponse } from '../../src/api/responseSchemas';
import { DEFAULT_SPECIAL_CHARACTERS } from '../../src/domain/pathPolicy';
import { assertError, createOrg, createProject, createUser, expectStatus, setRole } from './fixtures';
import { type ApiHarness, startApiHarness } from './harness';

describe('GET /v1/me and the admin page', () => {
  let h: ApiHarness;

  before(async () => {
    h = await startApiHarness();
  });
  after(async () => {
    await h?.close();
  });

  it('answers 401 without a key and 403 to the root key, which is not a user', async () => {
    assertError(await h.call('GET', '/v1/me', { key: null }), 401, 'unauthorized');
    assertError(await h.call('GET', '/v1/me', { key: h.rootKey }), 403, 'forbidden');
  });

  it("lists the user's projects with their role and each organization's Dropbox feature, nothing else", async () => {
    const [orgOn, orgOff] = [await createOrg(h, true), await createOrg(h, false)];
    const administered = await createProject(h, orgOn);
    const joined = await createProject(h, orgOn);
    const featureOff = await createProject(h, orgOff);
    const notMine = await createProject(h, orgOn);
    const user = await createUser(h);
    const other = await createUser(h);
    await setRole(h, administered, user.userId, 'admin');
    await setRole(h, joined, user.userId, 'member');
    await setRole(h, featureOff, user.userId, 'admin');
    await setRole(h, notMine, other.userId, 'admin');

    const res = await h.call('GET', '/v1/me', { key: user.key });
    expectStatus(res, 200);
    const me = meResponse.parse(res.body);
    assert.equal(me.id, user.userId);
    assert.equal(me.email, user.email);
    const seen = new Map(me.projects.map((p) => [p.id, [p.role, p.organization.id, p.organization.features.dropbox]]));
    assert.deepEqual(
      seen,
      new Map([
        [administered, ['admin', orgOn, true]],
        [joined, ['member', orgOn, true]],
        [featureOff, ['admin', orgOff, false]],
      ]),
    );
    assert.deepEqual(Object.keys(res.body as object).sort(), [
      'dropboxOAuth',
      'email',
      'id',
      'projects',
      'specialCharacters',
      'temporalUi',
    ]);
    assert.ok(!res.text.includes(user.key), 'the key is not repeated');
  });

  it('gives the special-character policy and says why "Connect with Dropbox" is off without an app', async () => {
    const url = await h.serve({ ...h.deps, config: { ...h.deps.config, dropbox: { oauthUrl: 'http://127.0.0.1:9' } } });
    const user = await createUser(h);
    const res = await h.call('GET', '/v1/me', { key: user.key, baseUrl: url });
    expectStatus(res, 200);
    assert.deepEqual(res.body.projects, []);
    assert.deepEqual(res.body.specialCharacters, Array.from(DEFAULT_SPECIAL_CHARACTERS));
    assert.equal(res.body.dropboxOAuth.enabled, false);
    assert.match(res.body.dropboxOAuth.reason, /DROPBOX_APP_KEY is not set/u);
    assert.equal(res.body.temporalUi, null);
  });

  it('turns "Connect with Dropbox" on when the app key is set (PKCE needs no secret), and names the Temporal Web UI', async () => {
    const keyOnly = await h.serve({ ...h.deps, config: { ...h.deps.config, dropbox: { appKey: 'app-key', oauthUrl: 'http://127.0.0.1:9' } } });
    const asked = await createUser(h);
    const keyOnlyAnswer = await h.call('GET', '/v1/me', { key: asked.key, baseUrl: keyOnly });
    expectStatus(keyOnlyAnswer, 200);
    assert.deepEqual(keyOnlyAnswer.body.dropboxOAuth, { enabled: true });
    const url = await h.serve({
      ...h.deps,
      config: {
        ...h.deps.config,
        dropbox: { appKey: 'app-key', appSecret: 'app-secret', oauthUrl: 'http://127.0.0.1:9' },
        temporalUi: { url: 'http://127.0.0.1:8233', namespace: 'default' },
      },
    });
    const user = await createUser(h);
    const res = await h.call('GET', '/v1/me', { key: user.key, baseUrl: url });
    expectStatus(res, 200);
    assert.deepEqual(res.body.dropboxOAuth, { enabled: true });
    assert.deepEqual(res.body.temporalUi, { url: 'http://127.0.0.1:8233', namespace: 'default' });
    assert.ok(!res.text.includes('app-secret') && !res.text.includes('app-key'), 'the app credentials stay unsaid');
  });

  it('serves the page and its modules without a key, under a Content-Security-Policy that allows nothing inline', async () => {
    for (const [path, type] of [
      ['/', /^text\/html/u],
      ['/assets/app.js', /^(text|application)\/javascript/u],
      ['/assets/app.css', /^text\/css/u],
    ] as const) {
      const res = await fetch(`${h.url}${path}`);
      assert.equal(res.status, 200, path);
      assert.match(res.headers.get('content-type') ?? '', type, path);
      const csp = res.headers.get('content-security-policy') ?? '';
      assert.match(csp, /default-src 'self'/u, path);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/u, path);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    }
    const missing = await fetch(`${h.url}/assets/nothing-here.js`);
    assert.equal(missing.status, 404);
  });
});
