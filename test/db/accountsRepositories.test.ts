import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { collections } from '../../src/db/collections';
import { DuplicateError, NotFoundError, RefreshTokenHeldError } from '../../src/db/errors';
import { newId } from '../../src/db/ids';
import { createRepositories, type Repositories } from '../../src/db/repositories';
import type { SealedToken } from '../../src/domain/types';
import { openTestDb, type TestDb } from './testDb';

const sealed = (label: string): SealedToken => ({
  v: 1,
  keyId: 'k',
  iv: label,
  tag: label,
  ciphertext: label,
});

describe('organizations, projects, users, memberships and connections', () => {
  let t: TestDb;
  let repos: Repositories;

  before(async () => {
    t = await openTestDb('accounts');
    repos = createRepositories(t.db);
  });
  after(async () => {
    await t?.close();
  });

  describe('organizations and projects', () => {
    it('creates an organization and reads it back', async () => {
      const org = await repos.orgs.create({ name: 'Acme Build', features: { dropbox: true } });
      assert.deepEqual(await repos.orgs.get(org._id), org);
      assert.equal(await repos.orgs.get(newId()), null);
    });

    it('updates the name and merges features', async () => {
      const org = await repos.orgs.create({ name: 'Old', features: { dropbox: true } });
      const renamed = await repos.orgs.update(org._id, { name: 'New' });
      assert.equal(renamed.name, 'New');
      assert.equal(renamed.features.dropbox, true);
      const off = await repos.orgs.update(org._id, { features: { dropbox: false } });
      assert.deepEqual(off.features, { dropbox: false });
      assert.equal(off.name, 'New');
      assert.ok(off.updatedAt.getTime() >= org.updatedAt.getTime());
      await assert.rejects(repos.orgs.update(newId(), { name: 'x' }), NotFoundError);
    });

    it('creates a project in an organization', async () => {
      const org = await repos.orgs.create({ name: 'Acme', features: { dropbox: true } });
      const project = await repos.projects.create({ orgId: org._id, name: 'Tower A' });
      assert.deepEqual(await repos.projects.get(project._id), project);
      assert.equal(project.orgId, org._id);
    });
  });

  describe('users', () => {
    it('returns an API key once and stores only its sha256', async () => {
      const { user, apiKey } = await repos.users.create({ email: 'Ada@Example.com ' });
      assert.match(apiKey, /^dfs_[A-Za-z0-9_-]{43}$/u);
      assert.equal(user.email, 'ada@example.com');
      assert.equal(user.apiKeyHash, createHash('sha256').update(apiKey).digest('hex'));
      const raw = await collections(t.db).users.findOne({ _id: user._id });
      assert.ok(raw);
      assert.ok(!JSON.stringify(raw).includes(apiKey), 'the key itself is never stored');
      assert.ok(!JSON.stringify(raw).includes(apiKey.slice(4)), 'not even without its prefix');
    });

    it('finds a user by API key, and nobody by a wrong or altered key', async () => {
      const { user, apiKey } = await repos.users.create({ email: 'grace@example.com' });
      assert.equal((await repos.users.findByApiKey(apiKey))?._id, user._id);
      assert.equal(await repos.users.findByApiKey(`${apiKey.slice(0, -1)}x`), null);
      assert.equal(await repos.users.findByApiKey(''), null);
      assert.equal((await repos.users.get(user._id))?.email, 'grace@example.com');
    });

    it('refuses a second user with the same email, whatever its case', async () => {
      await repos.users.create({ email: 'linus@example.com' });
      await assert.rejects(repos.users.create({ email: 'LINUS@example.com' }), DuplicateError);
    });
  });

  describe('memberships', () => {
    it('sets a role, changes it, and keeps one membership', async () => {
      const projectId = newId();
      const userId = newId();
      assert.equal(await repos.memberships.get(projectId, userId), null);
      await repos.memberships.set(projectId, userId, 'member');
      await repos.memberships.set(projectId, userId, 'admin');
      const m = await repos.memberships.get(projectId, userId);
      assert.equal(m?.role, 'admin');
      assert.equal(m?.projectId, projectId);
      assert.equal(m?.userId, userId);
      assert.equal(await collections(t.db).memberships.countDocuments({ projectId }), 1);
    });
  });

  describe('connections', () => {
    it('creates a connection without storing absent optional fields', async () => {
      const projectId = newId();
      const c = await repos.connections.create({
        projectId,
        clientIdentification: 'ops@example.com',
        accountId: 'dbid:1',
        accountEmail: 'ops@example.com',
        token: sealed('a'),
      });
      const raw = await collections(t.db).connections.findOne({ _id: c._id });
      assert.ok(raw && !('accountName' in raw) && !('rootNamespaceId' in raw));
      assert.deepEqual(await repos.connections.getById(c._id), c);
    });

    it('moves the changes cursor on only from where the look started: a cursor dropped meanwhile stays dropped', async () => {
      const c = await repos.connections.create({
        projectId: newId(),
        clientIdentification: 'w@example.com',
        accountId: 'dbid:webhook',
        accountEmail: 'w@example.com',
        token: sealed('w'),
      });
      const cursor = async () => (await repos.connections.getById(c._id))?.changesCursor;
      await repos.connections.setChangesCursor(c._id, 'first', { cursor: undefined });
      assert.equal(await cursor(), 'first');
      await repos.connections.setChangesCursor(c._id, 'second', { cursor: 'first' });
      assert.equal(await cursor(), 'second');
      // A look that started at 'first' lands after another moved on: it does not take the cursor back.
      await repos.connections.setChangesCursor(c._id, 'stale', { cursor: 'first' });
      assert.equal(await cursor(), 'second');
      // Dropped while a look from 'second' ran (the root changed): it stays dropped.
      await repos.connections.setRootNamespace(c._id, '3000108');
      await repos.connections.setChangesCursor(c._id, 'third', { cursor: 'second' });
      assert.equal(await cursor(), undefined);
    });

    it('takes a caller-chosen id, so a token can be sealed to it before the insert', async () => {
      const id = newId();
      const c = await repos.connections.create({
        id,
        projectId: newId(),
        clientIdentification: 'a@example.com',
        accountId: 'dbid:2',
        accountEmail: 'a@example.com',
        token: sealed('b'),
      });
      assert.equal(c._id, id);
    });

    it('get is scoped by project; listByProject lists that project only', async () => {
      const projectId = newId();
      const base = {
        clientIdentification: 'a@example.com',
        accountId: 'dbid:3',
        accountEmail: 'a@example.com',
        token: sealed('c'),
      };
      const a = await repos.connections.create({ ...base, projectId });
      const b = await repos.connections.create({ ...base, projectId, accountId: 'dbid:3b' });
      await repos.connections.create({ ...base, projectId: newId() });
      // One connection per account and project: the same account again is refused.
      await assert.rejects(repos.connections.create({ ...base, projectId }), DuplicateError);
      assert.equal((await repos.connections.findByAccount(projectId, 'dbid:3'))?._id, a._id);
      assert.equal((await repos.connections.get(projectId, a._id))?._id, a._id);
      assert.equal(await repos.connections.get(newId(), a._id), null);
      assert.deepEqual(
        (await repos.connections.listByProject(projectId)).map((c) => c._id).sort(),
        [a._id, b._id].sort(),
      );
    });

    it('replaceToken swaps the sealed token and account fields, dropping ones no longer true', async () => {
      const c = await repos.connections.create({
        projectId: newId(),
        clientIdentification: 'team@example.com',
        accountId: 'dbid:4',
        accountEmail: 'team@example.com',
        accountName: 'Team',
        rootNamespaceId: 'ns:1',
        token: sealed('old'),
      });
      const later = new Date(c.tokenUpdatedAt.getTime() + 1000);
      const updated = await repos.connections.replaceToken(
        c._id,
        sealed('new'),
        { accountId: 'dbid:4', accountEmail: 'team@example.com', accountName: 'Team 2' },
        later,
      );
      assert.deepEqual(updated.token, sealed('new'));
      assert.equal(updated.accountName, 'Team 2');
      assert.equal(updated.rootNamespaceId, undefined);
      assert.equal(updated.tokenUpdatedAt.getTime(), later.getTime());
      assert.equal(updated.createdAt.getTime(), c.createdAt.getTime());
      await assert.rejects(
        repos.connections.replaceToken(newId(), sealed('x'), { accountId: 'a', accountEmail: 'b' }),
        NotFoundError,
      );
    });

    it('replaceToken never puts an access token in place of a working refresh token, however recent', async () => {
      const account = { accountId: 'dbid:5', accountEmail: 'held@example.com' };
      const c = await repos.connections.create({ projectId: newId(), clientIdentification: 'held@example.com', ...account, token: sealed('pasted') });
      // A refresh token stored after the caller read the connection (an OAuth round finishing).
      const refresh = { refreshToken: sealed('rt'), appKey: 'app', accessTokenExpiresAt: new Date(Date.now() + 3_600_000) };
      await repos.connections.replaceToken(c._id, sealed('from-refresh'), account, new Date(), refresh);
      await assert.rejects(repos.connections.replaceToken(c._id, sealed('another-pasted'), account), RefreshTokenHeldError);
      const kept = await repos.connections.getById(c._id);
      assert.equal(kept?.credentialKind, 'refresh_token');
      assert.deepEqual(kept?.token, sealed('from-refresh'));
      // Once Dropbox refused the refresh token, an access token may take its place.
      await repos.connections.markRefreshRefused(c._id, sealed('rt'), 'invalid_grant');
      const replaced = await repos.connections.replaceToken(c._id, sealed('another-pasted'), account);
      assert.equal(replaced.credentialKind, 'access_token');
    });

    it('deletes a connection once', async () => {
      const c = await repos.connections.create({
        projectId: newId(),
        clientIdentification: 'a@example.com',
        accountId: 'dbid:5',
        accountEmail: 'a@example.com',
        token: sealed('d'),
      });
      assert.equal(await repos.connections.delete(c._id), true);
      assert.equal(await repos.connections.delete(c._id), false);
      assert.equal(await repos.connections.getById(c._id), null);
    });
  });
});
