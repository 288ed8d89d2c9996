import { mkdir } from 'node:fs/promises';
import { resolve as resolvePath } from 'node:path';
import { MongoClient } from 'mongodb';
import { startManagedProcess, type ManagedProcess } from './childProcess';
import { findFreePort } from '../ports';
import { waitForReady } from './readiness';

export interface FerretDbOptions {
  binPath: string;
  /** Holds the SQLite files and FerretDB's state; created if missing. */
  dataDir: string;
  port?: number;
  startTimeoutMs?: number;
  log?: (line: string) => void;
  /** Receives FerretDB's own output lines (warnings and errors only). */
  onOutput?: (line: string) => void;
}

export interface FerretDbServer {
  /** A MongoDB connection string, e.g. mongodb://127.0.0.1:41234/ */
  readonly uri: string;
  readonly port: number;
  readonly dataDir: string;
  stop(): Promise<void>;
  /**
   * Stops and starts again on the same port and data, as a database outage would. A graceful
   * stop waits up to ~3 s for open client connections; `crash: true` kills it outright instead.
   */
  restart(options?: { crash?: boolean }): Promise<void>;
}

/** Starts FerretDB over SQLite on a loopback port and waits until a MongoDB ping succeeds. */
export async function startFerretDb(options: FerretDbOptions): Promise<FerretDbServer> {
  const dataDir = resolvePath(options.dataDir);
  await mkdir(dataDir, { recursive: true });
  const port = options.port ?? (await findFreePort());
  const uri = `mongodb://127.0.0.1:${port}/`;
  const startTimeoutMs = options.startTimeoutMs ?? 30_000;

  const launch = async (): Promise<ManagedProcess> => {
    const started = Date.now();
    const child = startManagedProcess({
      name: 'FerretDB',
      file: options.binPath,
      args: ferretDbArgs(dataDir, port),
      onOutput: options.onOutput,
    });
    await waitForReady({
      process: child,
      probe: () => ping(uri),
      timeoutMs: startTimeoutMs,
      what: `FerretDB on 127.0.0.1:${port}`,
    });
    options.log?.(`FerretDB ready at ${uri} (${Date.now() - started} ms, data in ${dataDir})`);
    return child;
  };

  let current = await launch();
  return {
    uri,
    port,
    dataDir,
    stop: () => current.stop(),
    restart: async ({ crash = false } = {}) => {
      await current.stop(crash ? 0 : undefined);
      current = await launch();
    },
  };
}

function ferretDbArgs(dataDir: string, port: number): string[] {
  return [
    '--handler=sqlite',
    // FerretDB wants a directory URI with a trailing slash.
    `--sqlite-url=file:${dataDir}/`,
    `--listen-addr=127.0.0.1:${port}`,
    `--state-dir=${dataDir}`,
    '--telemetry=disable',
    '--log-level=warn',
    // "-" turns the metrics/pprof listener off; its default 127.0.0.1:8088 would clash between runs.
    '--debug-addr=-',
  ];
}

async function ping(uri: string): Promise<void> {
  const client = new MongoClient(uri, {
    serverSelectionTimeoutMS: 1_000,
    connectTimeoutMS: 1_000,
    directConnection: true,
  });
  try {
    await client.connect();
    await client.db('admin').command({ ping: 1 });
  } finally {
    await client.close();
  }
}
