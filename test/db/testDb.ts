import type { Db, MongoClient } from 'mongodb';
import { ensureIndexes } from '../../src/db/collections';
import { connectMongo } from '../../src/db/mongo';
import { requireEnv, uniqueDbName } from '../support/testEnv';

export interface TestDb {
  client: MongoClient;
  db: Db;
  /** Drops the database and closes the client. */
  close(): Promise<void>;
}

/** A fresh, indexed database of its own for one test file, on the server `MONGODB_URI` names. */
export async function openTestDb(label: string): Promise<TestDb> {
  const uri = requireEnv('MONGODB_URI');
  const { client, db } = await connectMongo(uri, { dbName: uniqueDbName(`test_db_${label}`) });
  await ensureIndexes(db);
  return {
    client,
    db,
    async close() {
      try {
        await db.dropDatabase();
      } finally {
        await client.close();
      }
    },
  };
}
