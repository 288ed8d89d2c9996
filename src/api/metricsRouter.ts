import { Router } from 'express';
import { Gauge, Registry } from 'prom-client';
import type { MappingState } from '../domain/mappingState';
import { metricsContentType, metricsText } from '../metrics';

/**
 * `GET /metrics` for Prometheus, without a key like `/healthz`: counts and timings only, no id,
 * path or secret. Beside the process's own metrics, the mappings by state, read from MongoDB at
 * scrape time (one aggregate). Only the API reports them: every API replica reads the same
 * database, whereas a worker serving them too would double them in a sum over the fleet.
 */
export function metricsRouter(deps: {
  repos: { mappings: { countByState(): Promise<Record<MappingState, number>> } };
}): Router {
  const api = new Registry();
  new Gauge({
    name: 'dropbox_sync_mappings',
    help: 'Mappings by state (unmapped ones included), as MongoDB holds them at scrape time',
    labelNames: ['state'] as const,
    registers: [api],
    async collect() {
      this.reset();
      // With MongoDB down the scrape still answers, without this gauge (/readyz says why).
      const counts = await deps.repos.mappings.countByState().catch(() => undefined);
      for (const [state, n] of Object.entries(counts ?? {})) this.set({ state }, n);
    },
  });

  const router = Router();
  router.get('/metrics', async (_req, res) => {
    res.type(metricsContentType).send(await metricsText(api));
  });
  return router;
}
