import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DuplicateError, NotFoundError } from '../../src/db/errors';
import { newId } from '../../src/db/ids';
import { createMappingsRepository, type MappingsRepository } from '../../src/db/mappingsRepository';
import { openTestDb, type TestDb } from './testDb';

const T0 = new Date('2024-06-01T00:00:00Z');

describe('mappings repository', () => {
  let t: TestDb;
  let mappings: MappingsRepository;
  const ids = () => ({ projectId: newId(), connectionId: newId() });

  before(async () => {
    t = await openTestDb('mappings');
    mappings = createMappingsRepository(t.db);
  });
  after(async () => {
    await t?.close();
  });

  it('creates an active mapping with its workflow id, normalized path and live key', async () => {
    const { projectId, connectionId } = ids();
    const m = await mappings.create(
      { projectId, connectionId, dropboxPath: 'Projects/Tower A/', targetFolder: '/Drawings' },
      T0,
    );
    assert.equal(m.state, 'active');
    assert.equal(m.workflowId, `folder-sync-${m._id}`);
    assert.equal(m.dropboxPath, '/Projects/Tower A');
    assert.equal(m.dropboxPathLower, '/projects/tower a');
    assert.equal(m.liveKey, `${projectId}|${connectionId}|/projects/tower a`);
    assert.match(m._id, /^[0-9a-f]{32}$/u);
    assert.deepEqual(await mappings.getById(m._id), m);
  });

  it('five concurrent creates of the same folder: exactly one succeeds, the others get DuplicateError', async () => {
    const { projectId, connectionId } = ids();
    const spellings = ['/Site/Photos', '/site/photos', 'Site/Photos/', '/SITE/PHOTOS', '/Site/Photos'];
    const results = await Promise.allSettled(
      spellings.map((dropboxPath) =>
        mappings.create({ projectId, connectionId, dropboxPath, targetFolder: '/' }),
      ),
    );
    const created = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    assert.equal(created.length, 1);
    assert.equal(refused.length, 4);
    for (const r of refused) assert.ok(r.reason instanceof DuplicateError, String(r.reason));
    assert.equal((await mappings.listByProject(projectId)).length, 1);
  });

  it('the same folder may be mapped in another project or through another connection', async () => {
    const a = ids();
    const b = ids();
    await mappings.create({ ...a, dropboxPath: '/Shared', targetFolder: '/' });
    await mappings.create({ ...b, dropboxPath: '/Shared', targetFolder: '/' });
    await mappings.create({
      projectId: a.projectId,
      connectionId: b.connectionId,
      dropboxPath: '/Shared',
      targetFolder: '/',
    });
  });

  it('markUnmapped frees the folder so it can be mapped again, and keeps the old record', async () => {
    const { projectId, connectionId } = ids();
    const first = await mappings.create({
      projectId,
      connectionId,
      dropboxPath: '/Plans',
      targetFolder: '/',
    });
    await assert.rejects(
      mappings.create({ projectId, connectionId, dropboxPath: '/plans', targetFolder: '/' }),
      DuplicateError,
    );
    const unmapped = await mappings.markUnmapped(first._id);
    assert.equal(unmapped.state, 'unmapped');
    assert.equal(unmapped.liveKey, `unmapped|${first._id}`);
    const second = await mappings.create({
      projectId,
      connectionId,
      dropboxPath: '/plans',
      targetFolder: '/',
    });
    assert.notEqual(second._id, first._id);
    assert.equal((await mappings.markUnmapped(first._id)).state, 'unmapped', 'unmapping twice is harmless');
    await assert.rejects(mappings.markUnmapped(newId()), NotFoundError);
  });

  it('counts and lists only the live mappings of a connection', async () => {
    const { projectId, connectionId } = ids();
    const a = await mappings.create({ projectId, connectionId, dropboxPath: '/A', targetFolder: '/' });
    const b = await mappings.create({ projectId, connectionId, dropboxPath: '/B', targetFolder: '/' });
    await mappings.create({ projectId, connectionId: newId(), dropboxPath: '/C', targetFolder: '/' });
    await mappings.recordState(b._id, { state: 'paused' });
    assert.equal(await mappings.countLiveByConnection(connectionId), 2);
    await mappings.markUnmapped(a._id);
    assert.equal(await mappings.countLiveByConnection(connectionId), 1);
    assert.deepEqual(
      (await mappings.listLiveByConnection(connectionId)).map((m) => m._id),
      [b._id],
    );
  });

  it('get is scoped by project: another project finds nothing', async () => {
    const { projectId, connectionId } = ids();
    const m = await mappings.create({ projectId, connectionId, dropboxPath: '/Scoped', targetFolder: '/' });
    assert.equal((await mappings.get(projectId, m._id))?._id, m._id);
    assert.equal(await mappings.get(newId(), m._id), null);
  });

  it('recordState records state, error and last sync; fields left out stay as they were', async () => {
    const { projectId, connectionId } = ids();
    const m = await mappings.create({ projectId, connectionId, dropboxPath: '/State', targetFolder: '/' });
    const synced = new Date('2024-06-02T00:00:00Z');
    assert.equal(
      await mappings.recordState(m._id, {
        state: 'needs_credentials',
        lastError: 'token expired',
        lastSyncAt: synced,
      }),
      true,
    );
    await mappings.recordState(m._id, { state: 'active' });
    const after1 = await mappings.getById(m._id);
    assert.equal(after1?.state, 'active');
    assert.equal(after1?.lastError, 'token expired');
    assert.equal(after1?.lastSyncAt?.getTime(), synced.getTime());
    await mappings.recordState(m._id, { state: 'active', lastError: null });
    assert.equal((await mappings.getById(m._id))?.lastError, null);
    assert.equal(await mappings.recordState(newId(), { state: 'active' }), false);
  });

  it('a late state report never brings an unmapped mapping back, and recording "unmapped" frees the folder', async () => {
    const { projectId, connectionId } = ids();
    const m = await mappings.create({ projectId, connectionId, dropboxPath: '/Late', targetFolder: '/' });
    assert.equal(await mappings.recordState(m._id, { state: 'unmapped', lastSyncAt: T0 }), true);
    assert.equal(await mappings.recordState(m._id, { state: 'active' }), false);
    const stored = await mappings.getById(m._id);
    assert.equal(stored?.state, 'unmapped');
    assert.equal(stored?.liveKey, `unmapped|${m._id}`);
    await mappings.create({ projectId, connectionId, dropboxPath: '/Late', targetFolder: '/' });
  });
});
