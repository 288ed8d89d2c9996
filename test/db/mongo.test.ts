import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_DB_NAME, connectMongo, databaseNameFromUri, redactMongoUri } from '../../src/db/mongo';
import { requireEnv, uniqueDbName } from '../support/testEnv';

describe('connecting to MongoDB', () => {
  it('takes the database name from the URI path, else the default', () => {
    assert.equal(databaseNameFromUri('mongodb://127.0.0.1:27017/sync_prod'), 'sync_prod');
    assert.equal(databaseNameFromUri('mongodb://u:p%40ss@h1:1,h2:2/app?replicaSet=rs0'), 'app');
    assert.equal(
      databaseNameFromUri('mongodb+srv://user:pw@cluster.example.net/app?retryWrites=true'),
      'app',
    );
    assert.equal(databaseNameFromUri('mongodb://127.0.0.1:27017/'), DEFAULT_DB_NAME);
    assert.equal(databaseNameFromUri('mongodb://127.0.0.1:27017'), DEFAULT_DB_NAME);
    assert.equal(databaseNameFromUri('mongodb://127.0.0.1:27017/?authSource=admin'), DEFAULT_DB_NAME);
    assert.equal(DEFAULT_DB_NAME, 'dropbox_folder_sync');
  });

  it('hides the password of a URI shown in a message', () => {
    assert.equal(redactMongoUri('mongodb://admin:s3cret@db:27017/app'), 'mongodb://***@db:27017/app');
    assert.equal(redactMongoUri('mongodb://db:27017/app'), 'mongodb://db:27017/app');
  });

  it('a failed connection names the server but never the password', async () => {
    const secret = 'hunter2-very-secret';
    await assert.rejects(
      connectMongo(`mongodb://admin:${secret}@127.0.0.1:1/app`, {
        clientOptions: { serverSelectionTimeoutMS: 300 },
      }),
      (err: Error) => {
        assert.match(err.message, /Could not connect to MongoDB at mongodb:\/\/\*\*\*@127\.0\.0\.1:1\/app/u);
        assert.ok(!err.message.includes(secret));
        return true;
      },
    );
  });

  it('connects and uses the database from dbName over the URI path', async () => {
    const dbName = uniqueDbName('test_db_mongo');
    const { client, db } = await connectMongo(requireEnv('MONGODB_URI'), { dbName });
    try {
      assert.equal(db.databaseName, dbName);
      const probe = db.collection<{ _id: string }>('probe');
      await probe.insertOne({ _id: 'x' });
      assert.equal(await probe.countDocuments(), 1);
    } finally {
      await db.dropDatabase();
      await client.close();
    }
  });
});
