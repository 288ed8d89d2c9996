/**
 * What FerretDB spends on the records of one 10,000-file sync, by how they are sent: one
 * insertMany (the raw reference), inserts of 250 to 2,000 in turn, and parts of 500 with the five
 * page keeps of a sync between them. Wall time and FerretDB's CPU for each, alternating, with
 * nothing else running. Investigation only: `npx tsx bench/insertProbe.ts [rounds] [pattern
 * prefix]`.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collections, ensureIndexes } from '../src/db/collections';
import { planListedFiles } from '../src/db/filePlan';
import { connectMongo } from '../src/db/mongo';
import { createRepositories } from '../src/db/repositories';
import { startFerretDb } from '../src/dev/servers';
import { defaultCacheDir, installTools } from '../src/dev/tools';
import type { ListedFile } from '../src/domain/types';
import { sdkClientFor, startDropboxEmulator } from '../src/dev/dropboxEmulator/index';
import { listFilesWithSdk } from './initialSync';
import { findDescendants, processCpuSeconds } from './machine';

const N = 10_000;

/** The records the bench's raw reference inserts: the emulator's folder, listed with the SDK. */
async function listedFiles(n: number): Promise<ListedFile[]> {
  const emulator = await startDropboxEmulator({ seed: 5 });
  try {
    const { accountId } = emulator.addAccount({ email: 'probe@example.com' });
    emulator.bulkAddFiles(accountId, '/Probe', n, { size: 1_000_000 });
    const sdk = sdkClientFor(emulator.url, emulator.issueToken(accountId));
    return (await listFilesWithSdk(sdk, '/Probe', 2_000)).entries;
  } finally {
    await emulator.close();
  }
}

type Pattern = (ctx: { db: import('mongodb').Db; files: ListedFile[] }) => Promise<void>;

const patterns: Record<string, Pattern> = {
  'one insertMany of 10,000': async ({ db, files }) => {
    const plan = planListedFiles({ id: 'm', projectId: 'p' }, files, 1, new Date(), new Map());
    await collections(db).files.insertMany(plan.inserts, { ordered: false });
  },
  ...Object.fromEntries(
    [250, 500, 1000, 2000].map((size) => [
      `${N / size} inserts of ${size} in turn`,
      (async ({ db, files }) => {
        const plan = planListedFiles({ id: 'm', projectId: 'p' }, files, 1, new Date(), new Map());
        for (let i = 0; i < plan.inserts.length; i += size) {
          await collections(db).files.insertMany(plan.inserts.slice(i, i + size), { ordered: false });
        }
      }) satisfies Pattern,
    ]),
  ),
  '20 inserts of 500 with 5 page keeps': async ({ db, files }) => {
    const repos = createRepositories(db);
    const plan = planListedFiles({ id: 'm', projectId: 'p' }, files, 1, new Date(), new Map());
    for (let p = 0; p < 5; p++) {
      const page = files.slice(p * 2000, (p + 1) * 2000);
      await repos.listingPages.keep(
        'm',
        (p % 4) as 0 | 1 | 2 | 3,
        { files: page, folders: [], deletedPaths: [] },
        new Date(),
      );
      for (let i = p * 2000; i < (p + 1) * 2000; i += 500) {
        await collections(db).files.insertMany(plan.inserts.slice(i, i + 500), { ordered: false });
      }
    }
  },
};

async function main(): Promise<void> {
  const rounds = Number(process.argv[2] ?? 3);
  const tools = await installTools({
    cacheDir: defaultCacheDir(process.env),
    env: process.env,
    log: () => undefined,
  });
  const server = await startFerretDb({
    binPath: tools.ferretDb,
    dataDir: await mkdtemp(join(tmpdir(), 'dfs-probe-')),
  });
  const pid = findDescendants(process.pid, tools.ferretDb)[0];
  if (!pid) throw new Error('FerretDB process not found');
  const files = await listedFiles(N);
  const only = process.argv[3];
  try {
    for (let r = 0; r < rounds; r++) {
      for (const [label, run] of Object.entries(patterns).filter(([l]) => !only || l.startsWith(only))) {
        const uri = new URL(server.uri);
        uri.pathname = `/probe_${randomBytes(3).toString('hex')}`;
        const { client, db } = await connectMongo(uri.toString());
        await ensureIndexes(db);
        const cpu0 = processCpuSeconds(pid) ?? NaN;
        const t0 = performance.now();
        await run({ db, files });
        const wall = performance.now() - t0;
        const cpu = (processCpuSeconds(pid) ?? NaN) - cpu0;
        process.stdout.write(
          `round ${r + 1} ${label}: ${wall.toFixed(0)} ms, FerretDB CPU ${(cpu * 1000).toFixed(0)} ms\n`,
        );
        await db.dropDatabase();
        await client.close();
      }
    }
  } finally {
    await server.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
