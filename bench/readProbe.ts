/**
 * What the token check's two reads by `_id` cost as the mappings grow: a database per size with
 * that many mappings (the product's repositories and indexes), then timed `getById` reads, one at a
 * time and 16 at a time, with nothing else running. Investigation only: `npx tsx
 * bench/readProbe.ts [sizes, e.g. 300,2000,5000]`; FerretDB is started unless MONGODB_URI is set.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureIndexes } from '../src/db/collections';
import { connectMongo } from '../src/db/mongo';
import { createRepositories } from '../src/db/repositories';
import { startFerretDb } from '../src/dev/servers';
import { defaultCacheDir, installTools } from '../src/dev/tools';
import { createTokenCipher } from '../src/security/tokenCipher';
import { mapLimit } from './fixture';

const READS = 400;

async function timedReads(read: (i: number) => Promise<unknown>, concurrency: number): Promise<number> {
  const started = performance.now();
  await mapLimit(
    Array.from({ length: READS }, (_, i) => i),
    concurrency,
    (i) => read(i),
  );
  return (performance.now() - started) / READS;
}

async function main(): Promise<void> {
  const sizes = (process.argv[2] ?? '300,2000,5000').split(',').map(Number);
  let baseUri = process.env.MONGODB_URI;
  let stop = async () => undefined as void;
  if (!baseUri) {
    const tools = await installTools({ cacheDir: defaultCacheDir(process.env), env: process.env, log: () => undefined });
    const server = await startFerretDb({ binPath: tools.ferretDb, dataDir: await mkdtemp(join(tmpdir(), 'dfs-probe-')) });
    baseUri = server.uri;
    stop = () => server.stop();
  }
  try {
    for (const n of sizes) {
      const uri = new URL(baseUri);
      uri.pathname = `/probe_${n}_${randomBytes(3).toString('hex')}`;
      const { client, db } = await connectMongo(uri.toString());
      await ensureIndexes(db);
      const repos = createRepositories(db);
      const connection = await repos.connections.create({
        projectId: randomBytes(12).toString('hex'),
        clientIdentification: 'probe@example.com',
        accountId: 'dbid:probe',
        accountEmail: 'probe@example.com',
        token: createTokenCipher(randomBytes(32)).seal('probe-token'),
      });
      const ids = await mapLimit(
        Array.from({ length: n }, (_, i) => i),
        8,
        async (i) =>
          (
            await repos.mappings.create({
              projectId: connection.projectId,
              connectionId: connection._id,
              dropboxPath: `/Probe/m${String(i).padStart(5, '0')}`,
              targetFolder: '/',
            })
          )._id,
      );
      const mappingRead = (i: number) => repos.mappings.getById(ids[(i * 7919) % n]!);
      const connectionRead = () => repos.connections.getById(connection._id);
      const one = await timedReads(mappingRead, 1);
      const sixteen = await timedReads(mappingRead, 16);
      const conn = await timedReads(connectionRead, 1);
      process.stdout.write(
        `${n} mappings: a mapping by _id ${one.toFixed(1)} ms one at a time, ${sixteen.toFixed(1)} ms per read 16 at a time; ` +
          `the connection (a collection of 1) ${conn.toFixed(1)} ms\n`,
      );
      await db.dropDatabase();
      await client.close();
    }
  } finally {
    await stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
