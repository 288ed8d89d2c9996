import { readdir, stat } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';

/**
 * Lists test files: everything named *.test.ts under the given files or directories, sorted so
 * runs are repeatable. Node 20's `--test` takes no globs, hence the walk.
 */
export async function findTestFiles(rootDir: string, targets: readonly string[]): Promise<string[]> {
  const found: string[] = [];
  for (const target of targets) {
    const path = resolve(rootDir, target);
    const info = await stat(path).catch(() => undefined);
    if (!info) throw new Error(`no such test file or directory: ${target}`);
    if (info.isDirectory()) await walk(path, found);
    else found.push(path);
  }
  return [...new Set(found.map((file) => relative(rootDir, file)))].sort();
}

async function walk(dir: string, found: string[]): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  for (const entry of entries) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await walk(path, found);
    else if (entry.isFile() && entry.name.endsWith('.test.ts')) found.push(path);
  }
}
