/**
 * `npm run dev` as a user runs it: no configuration, so it starts FerretDB, the Temporal dev
 * server and the demo Dropbox itself, then prints a key and ready requests. The test follows the
 * printed instructions, sees the demo folder synced, and stops it all with Ctrl-C (SIGINT).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../support/eventually';

const root = resolve(__dirname, '..', '..');

/** As a user's shell runs it: nothing configured, so everything is embedded. */
function launcherEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, DFS_DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'warn' };
  for (const name of ['MONGODB_URI', 'TEMPORAL_ADDRESS', 'DROPBOX_API_URL', 'ROOT_API_KEY', 'TOKEN_ENCRYPTION_KEY', 'DROPBOX_APP_KEY', 'DROPBOX_APP_SECRET']) delete env[name];
  return env;
}

let dataDir: string;

describe('npm run dev', () => {
  let child: ChildProcess;
  let output = '';
  let exited: Promise<number | null>;

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'dfs-dev-'));
    const env = launcherEnv();
    child = spawn(process.execPath, ['--import', 'tsx', 'src/dev/launcher.ts'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    exited = new Promise((done) => child.once('exit', (code) => done(code)));
    await eventually(() => assert.match(output, /Demo admin/u), 120_000, 250);
  });
  after(async () => {
    if (child.exitCode === null) child.kill('SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  });

  const printed = (pattern: RegExp): string => {
    const match = pattern.exec(output);
    assert.ok(match?.[1], `expected ${String(pattern)} in:\n${output}`);
    return match[1];
  };

  it('prints the API, the Web UI and a demo key that maps and syncs the demo folder', async () => {
    const api = printed(/API\s+(http:\/\/[^\s"]+)/u);
    assert.match(printed(/Web UI: (http:\/\/[^\s"]+)/u), /^http:\/\/127\.0\.0\.1:\d+$/u);
    const key = printed(/API key ([^\s"]+)/u);
    const projectId = printed(/project ([0-9a-f]{32})/u);
    const connectionId = printed(/connection ([0-9a-f]{32})/u);
    const folder = printed(/\\?"dropboxPath\\?":\\?"([^"\\]+)\\?"/u);
    const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
    const base = `${api}/v1/projects/${projectId}/dropbox`;

    const created = await fetch(`${base}/mappings`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ connectionId, dropboxPath: folder }),
    });
    assert.equal(created.status, 201, await created.clone().text());
    const mapping = (await created.json()) as { id: string };
    await eventually(async () => {
      const res = await fetch(`${base}/mappings/${mapping.id}/files`, { headers });
      const body = (await res.json()) as { files: { name: string }[] };
      assert.ok(body.files.some((f) => f.name === 'Foundation plan.pdf'), JSON.stringify(body));
    }, 60_000, 500);
    const rejections = (await (await fetch(`${base}/mappings/${mapping.id}/rejections`, { headers })).json()) as {
      rejections: { name: string; kind: string }[];
    };
    assert.ok(rejections.rejections.some((r) => r.name === 'plan#2?.pdf'));
    assert.ok(rejections.rejections.some((r) => r.kind === 'subfolder' && r.name === 'Photos'));

    // A file added in the demo Dropbox shows within seconds: the emulator's webhook, not the five-minute timer.
    const emulator = printed(/demo emulator at (http:\/\/\S+)/u);
    const [account] = (await (await fetch(`${emulator}/_control/accounts`)).json()) as { accountId: string }[];
    const added = await fetch(`${emulator}/_control/accounts/${account!.accountId}/files`, {
      method: 'POST',
      body: JSON.stringify({ path: `${folder}/Arrived by webhook.pdf`, content: 'new' }),
    });
    assert.equal(added.status, 201, await added.clone().text());
    await eventually(async () => {
      const res = await fetch(`${base}/mappings/${mapping.id}/files`, { headers });
      const body = (await res.json()) as { files: { name: string }[] };
      assert.ok(body.files.some((f) => f.name === 'Arrived by webhook.pdf'), JSON.stringify(body));
    }, 10_000, 200);

    // The demo's plan is a real PDF: once its content is stored, the download opens.
    const pdf = await eventually(async () => {
      const res = await fetch(`${base}/mappings/${mapping.id}/files`, { headers });
      const body = (await res.json()) as { files: { id: string; name: string; contentState: string }[] };
      const plan = body.files.find((f) => f.name === 'Foundation plan.pdf');
      assert.equal(plan?.contentState, 'stored');
      return (await fetch(`${base}/mappings/${mapping.id}/files/${plan.id}/content`, { headers })).arrayBuffer();
    }, 60_000, 500);
    const text = Buffer.from(pdf).toString('latin1');
    assert.ok(text.startsWith('%PDF-1.4') && text.trimEnd().endsWith('%%EOF'), 'a whole PDF');
  });

  it('refuses a second npm run dev on the same data directory, naming the one running', async () => {
    const env = launcherEnv();
    const second = spawn(process.execPath, ['--import', 'tsx', 'src/dev/launcher.ts'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let said = '';
    second.stdout!.on('data', (chunk: Buffer) => (said += chunk.toString()));
    second.stderr!.on('data', (chunk: Buffer) => (said += chunk.toString()));
    const gone = new Promise<number | null>((done) => second.once('exit', done));
    let timer: NodeJS.Timeout | undefined;
    let code: number | null | string;
    try {
      code = await Promise.race([gone, new Promise<string>((done) => (timer = setTimeout(() => done('still running after 60 s'), 60_000)))]);
    } finally {
      clearTimeout(timer);
      // Should it have started after all, it stops (with its servers) before the next test.
      if (second.exitCode === null && second.signalCode === null) {
        second.kill('SIGINT');
        await gone;
      }
    }
    assert.equal(code, 1, said);
    assert.match(said, new RegExp(`another npm run dev \\(pid ${child.pid}\\) is using`, 'u'));
  });

  it('stops everything on Ctrl-C', async () => {
    child.kill('SIGINT');
    const code = await Promise.race([exited, new Promise((done) => setTimeout(() => done('timeout'), 30_000))]);
    assert.equal(code, 0, output.slice(-2000));
    assert.doesNotMatch(output, /while stopping/u);
  });
});
