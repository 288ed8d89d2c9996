/**
 * `--ferretdb-core`: FerretDB on a core of its own, everything else (the bench and its emulator,
 * the dev server, the workers it starts later) on the others, as when the database runs on a
 * machine of its own. The raw reference and the workflow then both get one core of FerretDB, and
 * neither shares it with the worker or the dev server. FerretDB keeps the Go scheduler's thread
 * count it started with (one per core), for both sides alike.
 */
import { execFileSync } from 'node:child_process';
import os from 'node:os';

function pin(pid: number, cores: string): void {
  // -a: every thread; threads and children started later inherit the affinity of their creator.
  execFileSync('taskset', ['-a', '-p', '-c', cores, String(pid)], { stdio: 'ignore' });
}

/** Returns a line saying where each process runs. */
export function pinFerretDbApart(pids: { ferretDb?: number; temporal?: number }): string {
  const cores = os.cpus().length;
  if (cores < 2) throw new Error('--ferretdb-core needs at least 2 cores');
  if (!pids.ferretDb)
    throw new Error('--ferretdb-core needs the bench to start FerretDB (MONGODB_URI unset)');
  const rest = cores === 2 ? '1' : `1-${cores - 1}`;
  pin(pids.ferretDb, '0');
  pin(process.pid, rest);
  if (pids.temporal) pin(pids.temporal, rest);
  return `pinned: FerretDB on core 0; the bench, its emulator, the dev server and the workers on core(s) ${rest}`;
}
