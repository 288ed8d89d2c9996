import { createServer, type Server } from 'node:http';
import { Runtime } from '@temporalio/worker';
import type { WorkerConfig } from './config';
import { findFreePort } from './ports';
import type { Logger } from './log';
import { includeSdkMetricsFrom, metricsContentType, metricsText } from './metrics';
import { sdkLogger } from './temporalLog';

/**
 * Once per worker process, before its first connection to Temporal: the SDK logs through `log`,
 * and its metrics join the product's. One scrape target per process: with METRICS_ADDRESS the
 * worker serves `/metrics` there, the product's metrics (cycles, files, Dropbox calls, lag) and
 * the SDK's (task slots, poll and schedule-to-start latencies, sticky cache, which show a worker
 * falling behind before its cycles do). The SDK's exporter lives in its Rust core, out of
 * prom-client's reach, so it listens on a loopback port of its own that `/metrics` reads.
 */
export async function installWorkerRuntime(
  config: Pick<WorkerConfig, 'metricsAddress' | 'logLevel'>,
  log: Logger,
): Promise<void> {
  const sdkMetricsAddress = `127.0.0.1:${await findFreePort()}`;
  Runtime.install({
    logger: sdkLogger(log, config.logLevel),
    telemetryOptions: {
      logging: { forward: {}, filter: { core: 'WARN', other: 'ERROR' } },
      metrics: { prometheus: { bindAddress: sdkMetricsAddress } },
    },
  });
  includeSdkMetricsFrom(`http://${sdkMetricsAddress}/metrics`);
  if (config.metricsAddress) await serveMetrics(config.metricsAddress);
}

/** `/metrics` on `address` (host:port) for the life of the process. */
async function serveMetrics(address: string): Promise<Server> {
  const cut = address.lastIndexOf(':');
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    void metricsText().then(
      (text) => res.writeHead(200, { 'content-type': metricsContentType }).end(text),
      () => res.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(address.slice(cut + 1)), address.slice(0, cut), () => resolve());
  });
  server.unref();
  return server;
}
