import { spawn, type ChildProcess } from 'node:child_process';

export interface ManagedProcessOptions {
  /** Short name used in messages, e.g. "FerretDB". */
  name: string;
  file: string;
  args: readonly string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Receives every output line; without it output is only kept for error messages. */
  onOutput?: (line: string) => void;
}

export interface ManagedProcess {
  readonly name: string;
  readonly pid: number | undefined;
  /** Resolves when the process has exited, however that happened. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  hasExited(): boolean;
  /** The last lines the process wrote (stdout and stderr), for error messages. */
  outputTail(lines?: number): string;
  /** SIGTERM, then SIGKILL if it has not exited after `graceMs` (0: SIGKILL at once); resolves once it is gone. */
  stop(graceMs?: number): Promise<void>;
}

const KEPT_LINES = 200;
const PARENT_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * Starts a long-running server process that cannot outlive this one: a test run that ends,
 * crashes or is interrupted must not leave servers holding ports and temp dirs.
 */
export function startManagedProcess(options: ManagedProcessOptions): ManagedProcess {
  const child = spawn(options.file, options.args, {
    cwd: options.cwd,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const kept: string[] = [];
  const keep = (line: string): void => {
    kept.push(line);
    if (kept.length > KEPT_LINES) kept.shift();
    options.onOutput?.(line);
  };
  collectLines(child, keep);

  let done = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      done = true;
      resolve({ code, signal });
    });
    // A spawn failure (binary missing, not executable) emits 'error' and never 'exit'.
    child.once('error', (err) => {
      keep(`${options.name} failed to start: ${err.message}`);
      done = true;
      resolve({ code: null, signal: null });
    });
  });

  const untie = tieToParent(child, () => done);
  void exited.then(untie);

  const stop = async (graceMs = 10_000): Promise<void> => {
    if (done) return;
    child.kill(graceMs > 0 ? 'SIGTERM' : 'SIGKILL');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    try {
      await exited;
    } finally {
      clearTimeout(timer);
    }
  };

  return {
    name: options.name,
    pid: child.pid,
    exited,
    hasExited: () => done,
    outputTail: (lines = 30) => kept.slice(-lines).join('\n'),
    stop,
  };
}

function collectLines(child: ChildProcess, onLine: (line: string) => void): void {
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    let partial = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) onLine(line);
    });
    stream.on('end', () => {
      if (partial) onLine(partial);
      partial = '';
    });
  }
}

/**
 * Kills the child when this process exits or is signalled. On a signal the child gets SIGTERM
 * and a moment to stop; the signal is then re-raised so this process still dies the way the
 * sender meant, unless someone else (e.g. the test script) handles that signal itself.
 */
function tieToParent(child: ChildProcess, hasExited: () => boolean): () => void {
  const onExit = (): void => {
    if (!hasExited()) child.kill('SIGKILL');
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    untie();
    const reraise = (): void => {
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    };
    if (hasExited()) return reraise();
    child.kill('SIGTERM');
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reraise();
    }, 3_000);
    child.once('exit', () => {
      clearTimeout(timer);
      reraise();
    });
  };
  const untie = (): void => {
    process.removeListener('exit', onExit);
    for (const signal of PARENT_SIGNALS) process.removeListener(signal, onSignal);
  };
  process.on('exit', onExit);
  for (const signal of PARENT_SIGNALS) process.on(signal, onSignal);
  return untie;
}
