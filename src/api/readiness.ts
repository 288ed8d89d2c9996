import type { Client } from '@temporalio/client';
import type { Db } from 'mongodb';
import type { Readiness } from './health';

const READINESS_TIMEOUT_MS = 2_000;

function within<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** Pings MongoDB and asks Temporal for its system info, each within a short deadline. */
export function readinessOf(db: Db, client: Client): () => Promise<Readiness> {
  const ok = (p: Promise<unknown>) =>
    within(READINESS_TIMEOUT_MS, p).then(
      () => true,
      () => false,
    );
  return async () => {
    const [mongo, temporal] = await Promise.all([
      ok(db.command({ ping: 1 })),
      ok(
        client.withDeadline(Date.now() + READINESS_TIMEOUT_MS, () =>
          client.workflowService.getSystemInfo({}),
        ),
      ),
    ]);
    return { mongo, temporal };
  };
}
