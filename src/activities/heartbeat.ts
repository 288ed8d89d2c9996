import { Context } from '@temporalio/activity';

const HEARTBEAT_EVERY_MS = 2_000;

/**
 * Heartbeats while `work` runs. With a heartbeat timeout on the proxy, an activity whose worker
 * died is retried elsewhere after that timeout instead of after its whole start-to-close time.
 * Outside an activity (a direct call in a test) it just runs the work.
 */
export async function withHeartbeats<T>(work: () => Promise<T>): Promise<T> {
  let context: Context | undefined;
  try {
    context = Context.current();
  } catch {
    return work();
  }
  const active = context;
  const timer = setInterval(() => active.heartbeat(), HEARTBEAT_EVERY_MS);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}
