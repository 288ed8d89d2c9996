/**
 * Only what runs embedded is installed: `npm run dev` with MONGODB_URI given needs no Go (no
 * FerretDB build), and it never runs the time-skipping test server.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { installTools } from '../../src/dev/tools';
import { requireEnv } from '../support/testEnv';

describe('installTools', () => {
  it('installs only the tools it is asked for, and touches nothing else in the cache', async () => {
    const cacheDir = await mkdtemp(join(tmpdir(), 'dfs-tools-'));
    try {
      const temporalCli = requireEnv('TEMPORAL_CLI_PATH');
      const lines: string[] = [];
      const tools = await installTools({
        cacheDir,
        env: { PATH: process.env.PATH, TEMPORAL_CLI_PATH: temporalCli },
        log: (line) => lines.push(line),
        only: { temporalCli: true, ferretDb: false },
      });
      assert.deepEqual(tools, { temporalCli, temporalTestServer: '', ferretDb: '' });
      assert.deepEqual(await readdir(cacheDir), [], lines.join('\n'));
    } finally {
      await rm(cacheDir, { recursive: true, force: true });
    }
  });
});
