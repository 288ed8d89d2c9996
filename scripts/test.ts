/**
 * `npm test`: the whole test command, complete on a fresh machine.
 *   1. installs the tools into the cache, schemathesis among them (skipped when done),
 *   2. type-checks and lints (fails fast),
 *   3. starts FerretDB and a Temporal dev server, unless MONGODB_URI / TEMPORAL_ADDRESS name
 *      servers to use instead,
 *   4. runs node's test runner over every *.test.ts under test/, or under the files or dirs given
 *      (`npm test -- test/dev`), one file at a time,
 *   5. stops the servers and exits with the test runner's code.
 * Set DFS_SERVER_LOGS=1 to see the servers' own output. DFS_SKIP_CHECKS=1 skips step 2, for a
 * quick local rerun only: CI never sets it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { redactMongoUri } from '../src/db/mongo';
import { removeQuietly } from '../src/dev/atomicInstall';
import { watchAncestors } from '../src/dev/orphanWatch';
import { ensureChromium } from '../src/dev/chromium';
import { runCommand } from '../src/dev/runCommand';
import { startFerretDb, startTemporalDevServer } from '../src/dev/servers';
import { findTestFiles } from '../src/dev/testFiles';
import {
  CHECK_JSONSCHEMA,
  SCHEMATHESIS,
  defaultCacheDir,
  installTestTool,
  installTools,
  type ToolPaths,
} from '../src/dev/tools';

const rootDir = resolve(__dirname, '..');
const log = (line: string): void => console.log(`[test] ${line}`);

interface RunState {
  cleanups: (() => Promise<void>)[];
  testRunner?: ChildProcess;
}

async function main(state: RunState): Promise<number> {
  const targets = process.argv.slice(2);
  const files = await findTestFiles(rootDir, targets.length > 0 ? targets : ['test']);
  if (files.length === 0) throw new Error(`no *.test.ts files under ${targets.join(', ') || 'test/'}`);

  let started = Date.now();
  const installOptions = { cacheDir: defaultCacheDir(process.env), env: process.env, log };
  const [tools, schemathesis, checkJsonschema] = await Promise.all([
    installTools(installOptions),
    installTestTool(SCHEMATHESIS, installOptions),
    installTestTool(CHECK_JSONSCHEMA, installOptions),
  ]);
  log(`tools ready (${elapsed(started)})`);

  // Checks and server start-up overlap; a failed check still stops everything before exiting.
  started = Date.now();
  // The browser tests drive the machine's Chromium: installed (apt-get) when missing, here, once.
  const needsChromium = files.some((file) => file.includes(`${join('test', 'browser')}/`));
  const [checks, servers, chromium] = await Promise.allSettled([
    runChecks(),
    startServers(tools, state),
    needsChromium ? ensureChromium({ env: process.env, log }) : Promise.resolve(undefined),
  ]);
  if (checks.status === 'rejected') throw checks.reason;
  if (servers.status === 'rejected') throw servers.reason;
  if (chromium.status === 'rejected') throw chromium.reason;
  log(`ready to test (${elapsed(started)})`);

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...servers.value,
    TEMPORAL_CLI_PATH: tools.temporalCli,
    TEMPORAL_TEST_SERVER_PATH: tools.temporalTestServer,
    FERRETDB_PATH: tools.ferretDb,
    SCHEMATHESIS: schemathesis,
    CHECK_JSONSCHEMA: checkJsonschema,
    ...(chromium.value ? { CHROMIUM_PATH: chromium.value } : {}),
  };
  log(
    `running ${files.length} test file(s) against MongoDB ${redactMongoUri(env.MONGODB_URI ?? '')} and Temporal ${env.TEMPORAL_ADDRESS}`,
  );
  const args = ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-timeout=600000', ...files];
  const testRunner = spawn(process.execPath, args, { cwd: rootDir, env, stdio: 'inherit' });
  state.testRunner = testRunner;
  return new Promise((resolveCode) => {
    testRunner.once('exit', (code) => resolveCode(code ?? 1));
  });
}

/** tsc and eslint side by side; output is shown only when one fails. */
async function runChecks(): Promise<void> {
  if (process.env.DFS_SKIP_CHECKS) {
    log('DFS_SKIP_CHECKS is set: skipping tsc and eslint');
    return;
  }
  const bin = (name: string): string => join(rootDir, 'node_modules', '.bin', name);
  const checks = [
    { name: 'tsc --noEmit', file: bin('tsc'), args: ['--noEmit', '-p', '.'] },
    { name: 'eslint', file: bin('eslint'), args: ['.'] },
  ];
  const results = await Promise.all(
    checks.map(async (check) => {
      const started = Date.now();
      const result = await runCommand(check.file, check.args, { cwd: rootDir, env: process.env });
      log(`${check.name}: ${result.code === 0 ? 'ok' : 'FAILED'} (${elapsed(started)})`);
      return { ...check, ...result };
    }),
  );
  const failed = results.filter((result) => result.code !== 0);
  for (const result of failed) console.error(`\n${result.name} failed:\n${result.stdout}${result.stderr}`);
  if (failed.length > 0)
    throw new Error(`${failed.map((result) => result.name).join(' and ')} failed; fix the errors above`);
}

async function startServers(
  tools: ToolPaths,
  state: RunState,
): Promise<{ MONGODB_URI: string; TEMPORAL_ADDRESS: string }> {
  const onOutput = (name: string) =>
    process.env.DFS_SERVER_LOGS ? (line: string) => console.error(`[${name}] ${line}`) : undefined;
  const mongo = async (): Promise<string> => {
    if (process.env.MONGODB_URI) return process.env.MONGODB_URI;
    const dataDir = await mkdtemp(join(tmpdir(), 'dfs-test-ferretdb-'));
    state.cleanups.push(() => removeQuietly(dataDir));
    const server = await startFerretDb({
      binPath: tools.ferretDb,
      dataDir,
      log,
      onOutput: onOutput('ferretdb'),
    });
    state.cleanups.push(() => server.stop());
    return server.uri;
  };
  const temporal = async (): Promise<string> => {
    if (process.env.TEMPORAL_ADDRESS) return process.env.TEMPORAL_ADDRESS;
    const server = await startTemporalDevServer({
      cliPath: tools.temporalCli,
      headless: true,
      log,
      onOutput: onOutput('temporal'),
    });
    state.cleanups.push(() => server.stop());
    return server.address;
  };
  const [MONGODB_URI, TEMPORAL_ADDRESS] = await Promise.all([mongo(), temporal()]);
  return { MONGODB_URI, TEMPORAL_ADDRESS };
}

/** Servers first, then their data dirs, newest first. */
async function cleanUp(state: RunState): Promise<void> {
  for (const cleanup of state.cleanups.splice(0).reverse()) {
    await cleanup().catch((err: unknown) => log(`clean-up failed: ${String(err)}`));
  }
}

function elapsed(since: number): string {
  return `${((Date.now() - since) / 1000).toFixed(1)} s`;
}

function run(): void {
  const state: RunState = { cleanups: [] };
  // Interrupted (Ctrl-C, CI time-out, or the shell above us killed): stop the test runner and
  // the servers, then leave.
  let stopping = false;
  const interrupt = (reason: string, code: number): void => {
    if (stopping) return;
    stopping = true;
    log(`${reason}: stopping`);
    state.testRunner?.kill('SIGTERM');
    void cleanUp(state).finally(() => process.exit(code));
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    // `on`, not `once`: while a listener stays, the servers' own signal hooks leave the exit to us.
    process.on(signal, () => interrupt(signal, signal === 'SIGINT' ? 130 : 143));
  }
  watchAncestors(() => interrupt('parent process gone', 129));
  main(state)
    .catch((err: unknown) => {
      console.error(`[test] ${err instanceof Error ? err.message : String(err)}`);
      return 1;
    })
    .then(async (code) => {
      await cleanUp(state);
      process.exitCode = code;
    })
    .catch((err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    });
}

run();
