import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Connection } from '@temporalio/client';
import { MongoClient, MongoServerError } from 'mongodb';
import {
  startFerretDb,
  startTemporalDevServer,
  type FerretDbServer,
  type TemporalDevServer,
} from '../../src/dev/servers';
import { DropboxPathKey, MappingIdKey, ProjectIdKey, SyncStateKey } from '../../src/workflows/definitions';
import { connectDevServer, createTimeSkippingEnv } from '../support/servers';
import { requireEnv, uniqueDbName } from '../support/testEnv';

const CONTRACT_ATTRIBUTES = ['DropboxPath', 'MappingId', 'ProjectId', 'SyncState'];
const KEYWORD = 2; // temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD

function portAcceptsConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function keywordAttributes(address: string, namespace = 'default'): Promise<string[]> {
  const connection = await Connection.connect({ address });
  try {
    const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
    return Object.entries(customAttributes)
      .filter(([, type]) => type === KEYWORD)
      .map(([name]) => name)
      .sort();
  } finally {
    await connection.close();
  }
}

describe('FerretDB started by startFerretDb', () => {
  let dataDir: string;
  let ferret: FerretDbServer;
  let client: MongoClient;

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'dfs-servers-test-'));
    ferret = await startFerretDb({ binPath: requireEnv('FERRETDB_PATH'), dataDir: join(dataDir, 'db') });
    client = new MongoClient(ferret.uri);
  });

  after(async () => {
    await client?.close();
    await ferret?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('answers a ping on a loopback port', async () => {
    assert.match(ferret.uri, /^mongodb:\/\/127\.0\.0\.1:\d+\/$/);
    assert.deepEqual(await client.db('admin').command({ ping: 1 }), { ok: 1 });
  });

  it('enforces a unique index with a duplicate-key error', async () => {
    const files = client.db(uniqueDbName('servers_test')).collection('files');
    await files.createIndex({ mappingId: 1, dropboxId: 1 }, { unique: true });
    await files.insertOne({ mappingId: 'm1', dropboxId: 'id:a' });
    const duplicate = await files
      .insertOne({ mappingId: 'm1', dropboxId: 'id:a' })
      .catch((err: unknown) => err);
    assert.ok(duplicate instanceof MongoServerError, `expected a MongoServerError, got ${String(duplicate)}`);
    assert.equal(duplicate.code, 11000);
    assert.equal(await files.countDocuments(), 1);
  });

  it('keeps its data across a crash and restart() on the same port', async () => {
    const dbName = uniqueDbName('servers_restart');
    await client
      .db(dbName)
      .collection('mappings')
      .insertOne({ _id: 'kept' as never });
    await ferret.restart({ crash: true });
    const fresh = new MongoClient(ferret.uri);
    try {
      assert.equal(
        await fresh
          .db(dbName)
          .collection('mappings')
          .countDocuments({ _id: 'kept' as never }),
        1,
      );
    } finally {
      await fresh.close();
    }
  });

  it('frees its port once stop() resolves', async () => {
    const other = await startFerretDb({
      binPath: requireEnv('FERRETDB_PATH'),
      dataDir: join(dataDir, 'other'),
    });
    assert.equal(await portAcceptsConnections(other.port), true);
    await other.stop();
    assert.equal(await portAcceptsConnections(other.port), false);
  });
});

describe('Temporal dev server started by startTemporalDevServer', () => {
  let server: TemporalDevServer;

  before(async () => {
    server = await startTemporalDevServer({ cliPath: requireEnv('TEMPORAL_CLI_PATH'), headless: true });
  });

  after(async () => {
    await server?.stop();
  });

  it('registers the contract search attributes as Keyword', async () => {
    assert.deepEqual(await keywordAttributes(server.address), CONTRACT_ATTRIBUTES);
    assert.equal(server.uiUrl, undefined);
  });

  it('frees its port once stop() resolves', async () => {
    const port = Number(server.address.split(':')[1]);
    await server.stop();
    assert.equal(await portAcceptsConnections(port), false);
  });
});

describe('servers handed to tests by npm test', () => {
  it('TEMPORAL_ADDRESS serves the contract search attributes', async () => {
    const dev = await connectDevServer();
    try {
      assert.deepEqual(
        await keywordAttributes(requireEnv('TEMPORAL_ADDRESS'), dev.namespace),
        CONTRACT_ATTRIBUTES,
      );
    } finally {
      await dev.close();
    }
  });

  it('the time-skipping environment accepts the contract search attributes on a workflow', async () => {
    const env = await createTimeSkippingEnv();
    try {
      // Starting with search attributes is validated like an upsert; no worker is needed.
      const handle = await env.client.workflow.start('folderSyncWorkflow', {
        taskQueue: `servers-test-${Date.now()}`,
        workflowId: `servers-test-${Date.now()}`,
        args: [],
        typedSearchAttributes: [
          { key: MappingIdKey, value: 'm1' },
          { key: ProjectIdKey, value: 'p1' },
          { key: DropboxPathKey, value: '/Plans' },
          { key: SyncStateKey, value: 'active' },
        ],
      });
      const described = await handle.describe();
      assert.equal(described.typedSearchAttributes.get(SyncStateKey), 'active');
      assert.equal(described.typedSearchAttributes.get(DropboxPathKey), '/Plans');
      await handle.terminate('test over');
    } finally {
      await env.teardown();
    }
  });
});
