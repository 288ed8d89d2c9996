import { chmod, cp, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isExecutable, moveIntoPlace, removeQuietly, tempPathFor } from './atomicInstall';
import { runCommand, runCommandOrThrow } from './runCommand';

export interface BuildFerretDbOptions {
  version: string;
  cacheDir: string;
  /** Final path of the binary, e.g. <cache>/bin/ferretdb-v1.24.2 */
  binPath: string;
  env: NodeJS.ProcessEnv;
  log: (line: string) => void;
}

const MODULE = 'github.com/FerretDB/FerretDB';

/**
 * Builds FerretDB from its module source. `go install …@version` alone gives a binary that
 * panics at start ("Invalid build/version/version.txt"): the release build writes that file
 * first, so we copy the module out of the read-only module cache and write it ourselves.
 */
export async function buildFerretDb(options: BuildFerretDbOptions): Promise<string> {
  const { version, cacheDir, binPath, log } = options;
  if (await isExecutable(binPath)) {
    log(`ferretdb ${version}: already installed at ${binPath}`);
    return binPath;
  }
  log(`ferretdb ${version}: building from the Go module proxy (first time only)`);
  await checkGo(options.env);
  // GOFLAGS=-mod=mod lets go resolve what the module's go.sum may lack instead of refusing.
  const env: NodeJS.ProcessEnv = { ...options.env, GO111MODULE: 'on', GOFLAGS: '-mod=mod', CGO_ENABLED: '0' };
  await mkdir(join(cacheDir, 'src'), { recursive: true });
  await mkdir(join(cacheDir, 'bin'), { recursive: true });

  const moduleDir = await downloadModule(version, cacheDir, env);
  const srcDir = tempPathFor(join(cacheDir, 'src', `ferretdb-${version}`));
  const tempBin = tempPathFor(binPath);
  try {
    await cp(moduleDir, srcDir, { recursive: true });
    await makeWritable(srcDir);
    await writeFile(join(srcDir, 'build', 'version', 'version.txt'), `${version}\n`);
    await runCommandOrThrow(
      'go',
      ['build', '-buildvcs=false', '-trimpath', '-o', tempBin, './cmd/ferretdb'],
      { cwd: srcDir, env },
    );
    await verifyVersion(tempBin, version);
    await moveIntoPlace(tempBin, binPath);
  } catch (err) {
    await removeQuietly(tempBin);
    throw new Error(
      `building FerretDB ${version} failed; or set FERRETDB_PATH to a ferretdb binary.\n${(err as Error).message}`,
    );
  } finally {
    await removeQuietly(srcDir);
  }
  return binPath;
}

async function checkGo(env: NodeJS.ProcessEnv): Promise<void> {
  const how =
    'Go (1.21 or newer; it fetches the 1.24 toolchain itself) is needed to build FerretDB from the Go module proxy ' +
    '(e.g. `apt-get install golang-go` or https://go.dev/dl); or set FERRETDB_PATH to a ferretdb binary';
  try {
    const result = await runCommand('go', ['version'], { env });
    if (result.code !== 0) throw new Error(result.stderr.trim());
  } catch (err) {
    throw new Error(`\`go\` does not run (${(err as Error).message}). ${how}`);
  }
}

async function downloadModule(version: string, cacheDir: string, env: NodeJS.ProcessEnv): Promise<string> {
  // Run outside any go.mod so the download is not tied to some surrounding module.
  const { stdout } = await runCommandOrThrow('go', ['mod', 'download', '-json', `${MODULE}@${version}`], {
    cwd: cacheDir,
    env,
  }).catch((err: Error) => {
    throw new Error(
      `downloading ${MODULE}@${version} failed; check access to the Go module proxy (GOPROXY). ${err.message}`,
    );
  });
  const info = JSON.parse(stdout) as { Dir?: string; Error?: string };
  if (info.Error || !info.Dir)
    throw new Error(`go mod download gave no source dir for ${MODULE}@${version}: ${info.Error ?? stdout}`);
  return info.Dir;
}

/** The module cache is read-only; the copy must be writable to add version.txt and to delete it later. */
async function makeWritable(dir: string): Promise<void> {
  await runCommandOrThrow('chmod', ['-R', 'u+w', dir]);
  await chmod(dir, 0o755);
}

async function verifyVersion(binary: string, version: string): Promise<void> {
  const { stdout } = await runCommandOrThrow(binary, ['--version']);
  if (!stdout.includes(`version: ${version}`)) throw new Error(`${binary} --version printed:\n${stdout}`);
}
