import { randomBytes } from 'node:crypto';
import { readFileSync, unlinkSync } from 'node:fs';
import { mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isAlive } from './orphanWatch';

/** Secrets `npm run dev` made up on its first run, kept so a restart can read what it stored. */
export interface DevSecrets {
  tokenEncryptionKey: string;
  rootApiKey: string;
}

/** What the demo set-up created, so a restart reuses it instead of making another org. */
export interface DemoRecord {
  orgId: string;
  projectId: string;
  userId: string;
  apiKey: string;
  connectionId?: string;
}

async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`${path} is unreadable (${(err as Error).message}); delete it to start afresh`);
  }
}

async function writeJson(path: string, value: unknown): Promise<void> {
  // Owner-only: these files hold keys.
  await writeFile(path, JSON.stringify(value, null, 2) + '\n', { mode: 0o600 });
}

export function createDevState(dataDir: string) {
  const secretsFile = join(dataDir, 'secrets.json');
  const demoFile = join(dataDir, 'demo.json');
  const lockFile = join(dataDir, 'launcher.pid');
  return {
    dataDir,
    /**
     * One `npm run dev` per data directory: two would share FerretDB's and Temporal's files
     * under other ports, and on a first run each could make up its own token key. A lock left
     * by a launcher that died is taken over; this one's is removed when the process exits.
     */
    async lock(): Promise<void> {
      await mkdir(dataDir, { recursive: true });
      for (let attempt = 0; ; attempt += 1) {
        try {
          await writeFile(lockFile, `${process.pid}\n`, { flag: 'wx' });
          break;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw err;
          const holder = Number((await readFile(lockFile, 'utf8').catch(() => '')).trim());
          if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isAlive(holder)) {
            throw new Error(
              `another npm run dev (pid ${holder}) is using ${dataDir}; stop it first, or give this one another DFS_DATA_DIR`,
            );
          }
          await unlink(lockFile).catch(() => undefined);
        }
      }
      process.once('exit', () => {
        try {
          if (readFileSync(lockFile, 'utf8').trim() === String(process.pid)) unlinkSync(lockFile);
        } catch {
          // Gone already.
        }
      });
    },
    async secrets(): Promise<DevSecrets> {
      await mkdir(dataDir, { recursive: true });
      const existing = await readJson<DevSecrets>(secretsFile);
      if (existing) return existing;
      const created: DevSecrets = {
        tokenEncryptionKey: randomBytes(32).toString('hex'),
        rootApiKey: `root_${randomBytes(24).toString('base64url')}`,
      };
      await writeJson(secretsFile, created);
      return created;
    },
    demo: () => readJson<DemoRecord>(demoFile),
    saveDemo: (record: DemoRecord) => writeJson(demoFile, record),
  };
}

export type DevState = ReturnType<typeof createDevState>;
