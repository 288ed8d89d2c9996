import { Router } from 'express';

export interface Readiness {
  mongo: boolean;
  temporal: boolean;
}

export type ReadinessCheck = () => Promise<Readiness>;

/**
 * `/healthz` says the process is up (for restarts); `/readyz` says whether it can serve (for load
 * balancers), naming the dependency that is down. Neither needs a key.
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
    const status = failed.length === 0 ? 'ready' : 'unavailable';
    res
      .status(failed.length === 0 ? 200 : 503)
      .json({ status, checks, ...(failed.length ? { failed } : {}) });
  });

  return router;
}
