import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { INDEXES, collections, ensureIndexes, type Collections } from '../../src/db/collections';
import { isDuplicateKeyError } from '../../src/db/errors';
import { openTestDb, type TestDb } from './testDb';

describe('collections and indexes', () => {
  let t: TestDb;

  before(async () => {
    t = await openTestDb('indexes');
  });
  after(async () => {
    await t?.close();
  });

  it('ensureIndexes is idempotent: a second and third run change nothing', async () => {
    await ensureIndexes(t.db);
    await ensureIndexes(t.db);
    const all = collections(t.db);
    for (const [name, expected] of Object.entries(INDEXES) as [
      keyof Collections,
      (typeof INDEXES)[keyof Collections],
    ][]) {
      if (expected.length === 0) continue;
      const actual = await all[name].listIndexes().toArray();
      for (const index of expected) {
        const found = actual.find((a) => a.name === index.name);
        assert.ok(found, `${name}.${index.name} exists`);
        assert.deepEqual(found.key, index.key, `${name}.${index.name} has its keys`);
        assert.equal(Boolean(found.unique), Boolean(index.unique), `${name}.${index.name} uniqueness`);
      }
      assert.equal(actual.length, expected.length + 1, `${name}: its indexes and _id, no more`);
    }
  });

  const duplicateRefused = async (write: () => Promise<unknown>) => {
    await assert.rejects(write, (err: unknown) => {
      assert.ok(isDuplicateKeyError(err), String(err));
      return true;
    });
  };

  it('enforces unique user emails and API key hashes', async () => {
    const { users } = collections(t.db);
    const now = new Date();
    await users.insertOne({ _id: 'u1', email: 'a@example.com', apiKeyHash: 'h1', createdAt: now });
    await duplicateRefused(() =>
      users.insertOne({ _id: 'u2', email: 'a@example.com', apiKeyHash: 'h2', createdAt: now }),
    );
    await duplicateRefused(() =>
      users.insertOne({ _id: 'u3', email: 'b@example.com', apiKeyHash: 'h1', createdAt: now }),
    );
  });

  it('enforces one mapping per live key', async () => {
    const { mappings } = collections(t.db);
    const base = {
      projectId: 'p',
      connectionId: 'c',
      dropboxPath: '/A',
      dropboxPathLower: '/a',
      targetFolder: '/',
      state: 'active' as const,
      liveKey: 'p|c|/a',
      createdAt: new Date(),
      updatedAt: new Date(),
    };
    await mappings.insertOne({ ...base, _id: 'm1', workflowId: 'folder-sync-m1' });
    await duplicateRefused(() => mappings.insertOne({ ...base, _id: 'm2', workflowId: 'folder-sync-m2' }));
  });

  it('finds files by mapping and path, and by mapping and listing generation', async () => {
    const { files } = collections(t.db);
    const now = new Date();
    const record = (id: string, pathLower: string, listingGeneration: number) => ({
      _id: `m:${id}`,
      mappingId: 'm',
      projectId: 'p',
      dropboxId: id,
      name: id,
      path: pathLower,
      pathLower,
      size: 1,
      rev: 'r',
      firstRev: 'r',
      contentHash: null,
      serverModified: now,
      syncedAt: now,
      updatedAt: now,
      listingGeneration,
      deletedAt: null,
    });
    await files.insertMany([record('a', '/x/a', 1), record('b', '/x/b', 2), record('c', '/x/c', 2)]);
    assert.equal((await files.findOne({ mappingId: 'm', pathLower: '/x/b' }))?.dropboxId, 'b');
    assert.equal(await files.countDocuments({ mappingId: 'm', listingGeneration: 2 }), 2);
    const page = await files
      .find({ mappingId: 'm', _id: { $gt: 'm:a' } })
      .sort({ _id: 1 })
      .limit(1)
      .toArray();
    assert.deepEqual(
      page.map((f) => f._id),
      ['m:b'],
    );
  });
});
