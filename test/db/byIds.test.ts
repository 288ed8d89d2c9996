import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { findByIds, READ_ONE_BY_ONE_UP_TO } from '../../src/db/byIds';
import { openTestDb, type TestDb } from './testDb';

describe('findByIds', () => {
  let t: TestDb;
  const docs = Array.from({ length: 40 }, (_, i) => ({ _id: `doc-${i}`, n: i, extra: `x${i}` }));
  const collection = () => t.db.collection<(typeof docs)[number]>('by_ids');

  before(async () => {
    t = await openTestDb('byids');
    await collection().insertMany(docs);
  });
  after(async () => {
    await t?.close();
  });

  const sorted = <T extends { _id: string }>(found: T[]) =>
    [...found].sort((a, b) => a._id.localeCompare(b._id));

  for (const count of [3, READ_ONE_BY_ONE_UP_TO, READ_ONE_BY_ONE_UP_TO + 1, 30]) {
    it(`finds the ${count} documents asked for, and nothing for ids that do not exist`, async () => {
      const ids = [...docs.slice(0, count).map((d) => d._id), 'doc-missing'];
      const found = await findByIds(collection(), ids);
      assert.deepEqual(sorted(found), sorted(docs.slice(0, count)));
    });
  }

  it('applies a projection whichever way it reads', async () => {
    for (const count of [2, 20]) {
      const found = await findByIds(
        collection(),
        docs.slice(0, count).map((d) => d._id),
        { _id: 1, n: 1 },
      );
      assert.deepEqual(
        sorted(found),
        sorted(docs.slice(0, count).map(({ _id, n }) => ({ _id, n }))) as never,
      );
    }
  });

  it('reads nothing for no ids', async () => {
    assert.deepEqual(await findByIds(collection(), []), []);
  });
});
