import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

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
  return {
    dataDir,
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
