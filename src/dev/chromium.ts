import { isExecutable } from './atomicInstall';
import { runCommandOrThrow } from './runCommand';

/** Where Debian's and Ubuntu's packages put the browser. */
const KNOWN_PATHS = ['/usr/bin/chromium', '/usr/bin/chromium-browser'];

async function firstExecutable(paths: readonly string[]): Promise<string | undefined> {
  for (const path of paths) if (await isExecutable(path)) return path;
  return undefined;
}

/**
 * The Chromium the browser tests drive: `CHROMIUM_PATH` when set, else the distribution's
 * package, installed with apt-get when missing and we are root. Never a browser download from
 * elsewhere: the tests drive the machine's own Chromium through puppeteer-core.
 */
export async function ensureChromium(options: {
  env: NodeJS.ProcessEnv;
  log: (line: string) => void;
}): Promise<string> {
  const { env, log } = options;
  const named = env.CHROMIUM_PATH;
  if (named) {
    if (!(await isExecutable(named))) {
      throw new Error(`CHROMIUM_PATH=${named} is not an executable file; fix it or unset it`);
    }
    return named;
  }
  const found = await firstExecutable(KNOWN_PATHS);
  if (found) return found;
  if (process.getuid?.() !== 0) {
    throw new Error(
      'Chromium is missing: install it (Debian: `sudo apt-get install -y chromium`) or set CHROMIUM_PATH',
    );
  }
  log('Chromium is missing: installing Debian\'s "chromium" package with apt-get');
  const aptEnv = { ...env, DEBIAN_FRONTEND: 'noninteractive' };
  await runCommandOrThrow('apt-get', ['update'], { env: aptEnv });
  await runCommandOrThrow('apt-get', ['install', '-y', '--no-install-recommends', 'chromium'], { env: aptEnv });
  const installed = await firstExecutable(KNOWN_PATHS);
  if (!installed) throw new Error('apt-get installed "chromium" but no executable is at ' + KNOWN_PATHS.join(' or '));
  log(`Chromium installed at ${installed}`);
  return installed;
}
