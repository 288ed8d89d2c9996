/** Every document of every collection of a database: to compare before and after, or to search. */
import { createHash } from 'node:crypto';
import { BSON, type Db, type Document } from 'mongodb';

export interface CollectionSnapshot {
  count: number;
  /** sha256 over the canonical EJSON of all documents, sorted by _id. */
  sha256: string;
}

export async function dumpDatabase(db: Db): Promise<Record<string, Document[]>> {
  const names = (await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name).sort();
  const dump: Record<string, Document[]> = {};
  for (const name of names) {
    const docs = await db.collection(name).find({}).toArray();
    const keyed = docs.map((doc) => ({ key: BSON.EJSON.stringify(doc._id, { relaxed: false }), doc }));
    keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    dump[name] = keyed.map((k) => k.doc);
  }
  return dump;
}

export async function snapshotDatabase(db: Db): Promise<Record<string, CollectionSnapshot>> {
  const dump = await dumpDatabase(db);
  const snapshot: Record<string, CollectionSnapshot> = {};
  for (const [name, docs] of Object.entries(dump)) {
    snapshot[name] = {
      count: docs.length,
      sha256: createHash('sha256')
        .update(BSON.EJSON.stringify(docs, { relaxed: false }))
        .digest('hex'),
    };
  }
  return snapshot;
}
