import type { ManagedProcess } from './childProcess';

export interface WaitForReadyOptions {
  process: ManagedProcess;
  /** Resolves once the server answers; throws (or rejects) while it does not yet. */
  probe: () => Promise<void>;
  timeoutMs: number;
  /** What is being waited for, e.g. "FerretDB on 127.0.0.1:41234". */
  what: string;
  intervalMs?: number;
}

/**
 * Polls a probe until the server answers. Gives up early if the process dies, and on timeout
 * stops it; either way the error quotes the server's last output, which is where the reason is.
 */
export async function waitForReady(options: WaitForReadyOptions): Promise<void> {
  const { process: server, probe, timeoutMs, what, intervalMs = 200 } = options;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    if (server.hasExited()) {
      const { code, signal } = await server.exited;
      throw new Error(
        `${what} exited before it was ready (code ${String(code)}, signal ${String(signal)}). Its last output:\n${server.outputTail()}`,
      );
    }
    try {
      await probe();
      return;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      await server.stop(2_000);
      const reason = lastError instanceof Error ? lastError.message : String(lastError);
      throw new Error(
        `${what} was not ready after ${timeoutMs} ms (last probe: ${reason}). Its last output:\n${server.outputTail()}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
