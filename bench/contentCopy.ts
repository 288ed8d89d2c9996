/**
 * `npx tsx bench/contentCopy.ts [--files 1000] [--mib 1] [--big-mib 1024]`: file contents into
 * GridFS through the product's copy (the `copyFileContents` activity as a worker runs it: by rev,
 * hashed on the way, verified, marked stored; CONTENT_CONCURRENCY 4) against the raw limit in the
 * same run (a plain script: fetch of /2/files/download piped into a GridFS upload, 4 at a time, no
 * hashing, no records), on a FerretDB of its own and the emulator. Also the process's RSS while
 * the large file is copied, against its RSS before. Prints a table; BENCHMARKS.md is not edited.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { GridFSBucket } from 'mongodb';
import { createActivities } from '../src/activities';
import { machineLine } from './machine';
import { ensureIndexes } from '../src/db/collections';
import { connectMongo } from '../src/db/mongo';
import { createRepositories } from '../src/db/repositories';
import { removeQuietly } from '../src/dev/atomicInstall';
import { startDropboxEmulator } from '../src/dev/dropboxEmulator/index';
import { startFerretDb } from '../src/dev/servers';
import { defaultCacheDir, installTools } from '../src/dev/tools';
import { createPathPolicy, DEFAULT_SPECIAL_CHARACTERS } from '../src/domain/pathPolicy';
import { createDropboxClient } from '../src/dropbox/client';
import { silentLogger } from '../src/log';
import { createTokenCipher } from '../src/security/tokenCipher';
import { createCredentialsProvider } from '../src/dropbox/credentials/credentialsProvider';
import { connectAccount } from '../test/support/connectedAccount';

const arg = (name: string, fallback: number) => {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
};
const FILES = arg('files', 1000);
const MIB = arg('mib', 1);
const BIG_MIB = arg('big-mib', 1024);
const CONCURRENCY = 4;

async function main(): Promise<void> {
  const tools = await installTools({ cacheDir: defaultCacheDir(process.env), env: process.env, log: () => undefined });
  const dataDir = await mkdtemp(join(tmpdir(), 'dfs-bench-contents-'));
  const ferret = await startFerretDb({ binPath: tools.ferretDb, dataDir, log: () => undefined });
  const emulator = await startDropboxEmulator();
  const { client, db } = await connectMongo(ferret.uri, { dbName: `bench_contents_${randomBytes(3).toString('hex')}` });
  try {
    await ensureIndexes(db);
    const repos = createRepositories(db);
    const cipher = createTokenCipher(randomBytes(32));
    const org = await repos.orgs.create({ name: 'Bench contents Construction', features: { dropbox: true } });
    const { _id: projectId } = await repos.projects.create({ orgId: org._id, name: 'Bench contents site' });
    const { accountId, token, connection } = await connectAccount({ emulator, repos, cipher }, projectId, {
      email: 'bench-contents@example.com',
      accountType: 'pro',
    });
    const dropboxClient = createDropboxClient({ apiUrl: emulator.url });
    const deps = {
      repos,
      dropbox: dropboxClient,
      credentials: createCredentialsProvider({ store: repos, tokens: dropboxClient, cipher }),
      pathPolicy: createPathPolicy(DEFAULT_SPECIAL_CHARACTERS),
      pageLimit: 2000,
      contentConcurrency: CONCURRENCY,
      maxFileBytes: 4 * 1024 ** 3,
      log: silentLogger,
    };
    const activities = createActivities(deps);
    const rawBucket = new GridFSBucket(db, { bucketName: 'raw_limit', chunkSizeBytes: 1024 * 1024 });

    const scenario = async (folder: string, fill: () => void) => {
      emulator.addFolder(accountId, folder);
      fill();
      const mapping = await repos.mappings.create({ projectId, connectionId: connection._id, dropboxPath: folder, targetFolder: '/' });
      let recordedSince: number | undefined;
      for (let cursor: string | undefined, slot = 0, more = true; more; slot = (slot + 1) % 4) {
        const summary = await activities.listFolder({
          mappingId: mapping._id,
          keepInSlot: slot as 0 | 1 | 2 | 3,
          ...(cursor ? { cursor } : {}),
        });
        await activities.persistNewFiles({
          mappingId: mapping._id,
          projectId,
          ...(summary.page ? { page: summary.page } : {}),
          endsListing: !summary.hasMore,
          listingGeneration: 1,
          sweep: !summary.hasMore,
        });
        if (summary.page) recordedSince = Math.min(recordedSince ?? summary.page.listedAt, summary.page.listedAt);
        cursor = summary.cursor;
        more = summary.hasMore;
      }
      // Raw limit: the same files, downloaded and written to GridFS by a plain script; run before
      // and after the product's copy so that neither side gets the warmer (or the more loaded) turn.
      const records = await db.collection<{ dropboxId: string }>('files').find({ mappingId: mapping._id }).toArray();
      const ids = records.map((f) => f.dropboxId);
      const rawCopy = async (round: number) => {
        const started = Date.now();
        const queue = [...ids];
        await Promise.all(
          Array.from({ length: CONCURRENCY }, async () => {
            for (let id = queue.shift(); id; id = queue.shift()) {
              const res = await fetch(`${emulator.url}/2/files/download`, {
                method: 'POST',
                headers: { Authorization: `Bearer ${token}`, 'Dropbox-API-Arg': JSON.stringify({ path: id }) },
              });
              await pipeline(
                Readable.fromWeb(res.body as WebReadableStream<Uint8Array>),
                rawBucket.openUploadStream(`${round}:${id}`),
              );
            }
          }),
        );
        return Date.now() - started;
      };
      const rawBefore = await rawCopy(1);
      const started = Date.now();
      const idleRss = process.memoryUsage().rss;
      let peakRss = idleRss;
      const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
      // As the workflow does: a copy starts files for 30 s, then the next copy goes on.
      let stored = 0;
      let copies = 0;
      for (let left = true; left; copies += 1) {
        // The first copy gives the recorded files their content records, as after a cycle.
        const since = copies === 0 ? recordedSince : undefined;
        const result = await activities.copyFileContents({ mappingId: mapping._id, ...(since === undefined ? {} : { recordedSince: since }) });
        stored += result.stored;
        left = result.pending > 0;
      }
      clearInterval(sampler);
      const product = Date.now() - started;
      if (stored !== ids.length) throw new Error(`stored ${stored} of ${ids.length}`);
      const rawAfter = await rawCopy(2);
      const raw = (rawBefore + rawAfter) / 2;
      return { raw, rawBefore, rawAfter, product, copies, idleRss, peakRss };
    };

    const mib = (n: number) => (n / 1024 / 1024).toFixed(0);
    const many = await scenario('/Bench/Many', () =>
      emulator.bulkAddFiles(accountId, '/Bench/Many', FILES, { size: MIB * 1024 * 1024 }),
    );
    const big = await scenario('/Bench/Big', () => {
      emulator.addFile(accountId, '/Bench/Big/scan.e57', { seed: 77, size: BIG_MIB * 1024 * 1024 });
    });
    console.log(machineLine());
    console.log('| scenario | product (copyFileContents) | raw limit (fetch → GridFS), mean of before and after | ratio | RSS idle → peak |');
    console.log('|---|---|---|---|---|');
    for (const [name, r] of [
      [`${FILES} files of ${MIB} MiB`, many],
      [`one ${BIG_MIB} MiB file`, big],
    ] as const) {
      console.log(
        `| ${name} | ${(r.product / 1000).toFixed(1)} s in ${r.copies} copies | ${(r.raw / 1000).toFixed(1)} s (${(r.rawBefore / 1000).toFixed(1)} s, ${(r.rawAfter / 1000).toFixed(1)} s) | ${(r.product / r.raw).toFixed(2)}× | ${mib(r.idleRss)} → ${mib(r.peakRss)} MiB |`,
      );
    }
  } finally {
    await client.close();
    await emulator.close();
    await ferret.stop();
    await removeQuietly(dataDir);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
