import { readFileSync } from 'node:fs';

/**
 * Calls `onOrphaned` once any ancestor of this process has gone. Signals do not always reach
 * us: `npm test` runs us through `sh -c` and tsx, and a SIGTERM to npm kills only npm, leaving
 * this process and its servers running. Polling the nearest ancestors (tsx, sh, npm) catches it;
 * farther ones (a login shell that started `npm test &` and exited) are none of our business.
 */
export function watchAncestors(onOrphaned: () => void, intervalMs = 1_000, depth = 3): () => void {
  const ancestors = ancestorPids(process.pid).slice(0, depth);
  const timer = setInterval(() => {
    if (ancestors.some((pid) => !isAlive(pid))) {
      clearInterval(timer);
      onOrphaned();
    }
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** Parent, grandparent, … up to (not including) init; just the parent where /proc is missing. */
function ancestorPids(pid: number): number[] {
  const found: number[] = [];
  let current = pid;
  for (let depth = 0; depth < 16; depth += 1) {
    const parent = current === process.pid ? process.ppid : parentOf(current);
    if (parent === undefined || parent <= 1) break;
    found.push(parent);
    current = parent;
  }
  return found;
}

function parentOf(pid: number): number | undefined {
  try {
    // /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may hold spaces, so split after ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ppid = Number(fields[1]);
    return Number.isInteger(ppid) ? ppid : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a process with this pid exists (someone else's too). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
