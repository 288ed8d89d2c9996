/**
 * `npm run dev` in a child process, as the launcher test starts it: its own FerretDB, Temporal
 * dev server (with its Web UI) and demo Dropbox, and the root key this test chose, so the test
 * can make the organizations, projects and users it needs through the API.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { eventually } from '../../support/eventually';

const root = resolve(__dirname, '..', '..', '..');

export interface DevStack {
  apiUrl: string;
  emulatorUrl: string;
  /** The stack's Temporal server (gRPC host:port), namespace `default`. */
  temporalAddress: string;
  rootKey: string;
  output(): string;
  stop(): Promise<void>;
}

/** `npm run dev`'s stack on free ports and a data directory of its own; `settings` add to its environment. */
export async function startDevStack(settings: Record<string, string> = {}): Promise<DevStack> {
  const dataDir = await mkdtemp(join(tmpdir(), 'dfs-browser-'));
  const rootKey = `root-${randomBytes(24).toString('hex')}`;
  const env: NodeJS.ProcessEnv = { ...process.env, DFS_DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'info', ROOT_API_KEY: rootKey, ...settings };
  for (const name of ['MONGODB_URI', 'TEMPORAL_ADDRESS', 'TEMPORAL_UI_URL', 'DROPBOX_API_URL', 'TOKEN_ENCRYPTION_KEY', 'DROPBOX_APP_KEY', 'DROPBOX_APP_SECRET']) {
    delete env[name];
  }
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/dev/launcher.ts'], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill('SIGINT');
      const timeout = new Promise<'timeout'>((done) => setTimeout(() => done('timeout'), 30_000).unref());
      if ((await Promise.race([exited, timeout])) === 'timeout') child.kill('SIGKILL');
    }
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    await eventually(() => {
      assert.equal(child.exitCode, null, `the launcher exited:\n${output}`);
      assert.match(output, /Demo admin/u);
    }, 180_000, 250);
  } catch (err) {
    await stop();
    throw err;
  }
  const printed = (pattern: RegExp): string => {
    const match = pattern.exec(output);
    assert.ok(match?.[1], `expected ${String(pattern)} in:\n${output}`);
    return match[1];
  };
  return {
    apiUrl: printed(/API\s+(http:\/\/\S+)/u),
    emulatorUrl: printed(/demo emulator at (http:\/\/\S+)/u),
    temporalAddress: printed(/Temporal\s+(\S+:\d+)/u),
    rootKey,
    output: () => output,
    stop,
  };
}

/** JSON over HTTP with a bearer key; the answer's status is checked by the caller. */
export async function call(
  method: string,
  url: string,
  key: string | undefined,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, {
    method,
    headers: {
      ...(key ? { authorization: `Bearer ${key}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

export async function expectCall(
  method: string,
  url: string,
  key: string | undefined,
  body: unknown,
  status: number,
): Promise<Record<string, unknown>> {
  const answer = await call(method, url, key, body);
  assert.equal(answer.status, status, `${method} ${url}: ${JSON.stringify(answer.body)}`);
  return answer.body;
}
