import { Router } from 'express';

export interface Readiness {
  mongo: boolean;
  temporal: boolean;
}

export type ReadinessCheck = () => Promise<Readiness>;

/**
 * `/healthz` says the process is up (for restarts); `/readyz` says whether it can serve (for load
 * balancers), naming the dependency that is down. Without MongoDB nothing can be served (503);
 * without Temporal the API still serves mappings, files, downloads, the page and webhooks, and
 * answers commands 503 itself, so it stays in rotation ('degraded', 200) rather than every
 * replica leaving at once. Neither needs a key.
 */
export function healthRouter(deps: { readiness: ReadinessCheck }): Router {
  const router = Router();

  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  router.get('/readyz', async (_req, res) => {
    let checks: Readiness;
    try {
      checks = await deps.readiness();
    } catch {
      checks = { mongo: false, temporal: false };
    }
    const failed = (Object.keys(checks) as (keyof Readiness)[]).filter((k) => !checks[k]);
    const status = !checks.mongo ? 'unavailable' : failed.length > 0 ? 'degraded' : 'ready';
    res
      .status(status === 'unavailable' ? 503 : 200)
      .json({ status, checks, ...(failed.length ? { failed } : {}) });
  });

  return router;
}
