/**
 * The production entry points as processes: they start from the environment alone, refuse a bad
 * configuration naming the variable (never its value), and stop cleanly on SIGTERM.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { findFreePort } from '../src/ports';
import { eventually } from './support/eventually';
import { requireEnv, uniqueDbName } from './support/testEnv';

const root = resolve(__dirname, '..');

interface Started {
  child: ChildProcess;
  output: () => string;
  exit: Promise<number | null>;
}

function start(entry: string, env: NodeJS.ProcessEnv): Started {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const exit = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  return { child, output: () => output, exit };
}

function baseEnv(): NodeJS.ProcessEnv {
  const mongo = new URL(requireEnv('MONGODB_URI'));
  mongo.pathname = `/${uniqueDbName('processes')}`;
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    MONGODB_URI: mongo.toString(),
    TEMPORAL_ADDRESS: requireEnv('TEMPORAL_ADDRESS'),
    TASK_QUEUE: `processes-${randomBytes(3).toString('hex')}`,
    TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
    ROOT_API_KEY: randomBytes(24).toString('hex'),
    PORT: '0',
    LOG_LEVEL: 'info',
  };
}

async function exitsWithin(started: Started, ms: number): Promise<number | null | 'timeout'> {
  return Promise.race([started.exit, new Promise<'timeout'>((done) => setTimeout(() => done('timeout'), ms))]);
}

describe('entry points', () => {
  it('the API serves /healthz and stops with code 0 on SIGTERM', async () => {
    const api = start('src/api/main.ts', baseEnv());
    try {
      let url = '';
      await eventually(() => {
        const line = api.output().split('\n').find((l) => l.includes('"api listening"'));
        assert.ok(line, api.output());
        url = (JSON.parse(line) as { url: string }).url;
      }, 30_000, 100);
      assert.equal((await fetch(`${url}/healthz`)).status, 200);
      api.child.kill('SIGTERM');
      assert.equal(await exitsWithin(api, 15_000), 0, api.output());
      assert.match(api.output(), /"api stopped"/u);
    } finally {
      api.child.kill('SIGKILL');
    }
  });

  it('the worker polls its task queue and stops with code 0 on SIGTERM', async () => {
    const worker = start('src/worker.ts', baseEnv());
    try {
      await eventually(() => assert.match(worker.output(), /"worker started"/u), 60_000, 100);
      worker.child.kill('SIGTERM');
      assert.equal(await exitsWithin(worker, 20_000), 0, worker.output());
      assert.match(worker.output(), /"worker stopped"/u);
    } finally {
      worker.child.kill('SIGKILL');
    }
  });

  it('the worker serves its metrics and the SDK\'s for its task queue at METRICS_ADDRESS, and logs only JSON lines', async () => {
    const address = `127.0.0.1:${await findFreePort()}`;
    const env: NodeJS.ProcessEnv = { ...baseEnv(), METRICS_ADDRESS: address };
    const worker = start('src/worker.ts', env);
    try {
      await eventually(() => assert.match(worker.output(), /"worker started"/u), 60_000, 100);
      assert.match(worker.output(), new RegExp(`"metrics":"http://${address}/metrics"`, 'u'));
      await eventually(async () => {
        const text = await (await fetch(`http://${address}/metrics`)).text();
        const slots = text
          .split('\n')
          .filter((l) => l.startsWith('temporal_worker_task_slots_available{'))
          .find((l) => l.includes(`task_queue="${env.TASK_QUEUE ?? ''}"`) && l.includes('worker_type="WorkflowWorker"'));
        assert.ok(slots, text.slice(0, 2_000));
        assert.ok(Number(slots.split(' ').at(-1)) > 0, slots);
        assert.match(text, /^# TYPE dropbox_sync_cycles_total counter$/mu, 'the product\'s metrics beside the SDK\'s');
        assert.match(text, /^process_cpu_user_seconds_total \d/mu);
      }, 30_000, 200);
      worker.child.kill('SIGTERM');
      assert.equal(await exitsWithin(worker, 20_000), 0, worker.output());
      // The SDK's own lines (its worker states) come through the product's logger, as JSON.
      const lines = worker.output().split('\n').filter(Boolean);
      for (const line of lines) assert.doesNotThrow(() => JSON.parse(line), line);
      assert.ok(!/webpack|workflow-bundle/iu.test(worker.output()), 'the bundler\'s report stays at debug');
      assert.ok(lines.some((l) => l.includes('"sdkComponent":"worker"') && l.includes('"service":"worker"')), worker.output());
    } finally {
      worker.child.kill('SIGKILL');
    }
  });

  it('refuses to start with a bad configuration, naming the variable and not its value', async () => {
    const secret = 'not-a-key-' + randomBytes(8).toString('hex');
    const api = start('src/api/main.ts', { ...baseEnv(), TOKEN_ENCRYPTION_KEY: secret, ROOT_API_KEY: 'short' });
    assert.equal(await exitsWithin(api, 30_000), 1);
    assert.match(api.output(), /TOKEN_ENCRYPTION_KEY/u);
    assert.match(api.output(), /ROOT_API_KEY/u);
    assert.ok(!api.output().includes(secret), api.output());
  });
});
