import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The product's Prometheus metrics, one registry per process: the API and the worker increment
 * them where things happen and serve them at `/metrics`. Labels hold only small fixed sets of
 * values (outcomes, Dropbox routes, status classes): never a secret, a path, a file name or a
 * mapping id, which would also make one series per mapping.
 */
export const metricsRegistry = new Registry();
collectDefaultMetrics({ register: metricsRegistry });

const registers = [metricsRegistry];

export const cycles = new Counter({
  name: 'dropbox_sync_cycles_total',
  help: 'Sync cycles ended, by outcome: ok, interrupted (pause, unmap), or the failure type that ended them',
  labelNames: ['outcome'] as const,
  registers,
});

export const cycleStartLag = new Histogram({
  name: 'dropbox_sync_cycle_start_lag_seconds',
  help: "Time from a timer cycle's due time to its start on a worker: grows when workers fall behind",
  buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
  registers,
});

export const filesRecorded = new Counter({
  name: 'dropbox_sync_files_recorded_total',
  help: 'File records written from listings, by change: added, updated, deleted',
  labelNames: ['change'] as const,
  registers,
});

export const filesRejected = new Counter({
  name: 'dropbox_sync_files_rejected_total',
  help: 'Files refused, each once, by reason (special_characters, too_large)',
  labelNames: ['reason'] as const,
  registers,
});

export const contentCopies = new Counter({
  name: 'dropbox_sync_content_copies_total',
  help: 'Copies of file versions into GridFS, by outcome: stored, failed (for good: the reason is on the file), retried (a download or hash that failed this time)',
  labelNames: ['outcome'] as const,
  registers,
});

export const dropboxCalls = new Counter({
  name: 'dropbox_sync_dropbox_calls_total',
  help: 'HTTP calls to Dropbox, by route (e.g. /2/files/list_folder) and result: ok, 401, 409, 429, 4xx, 5xx, network',
  labelNames: ['route', 'result'] as const,
  registers,
});

export const tokenRefreshes = new Counter({
  name: 'dropbox_sync_token_refreshes_total',
  help: 'Access token refreshes, by result',
  labelNames: ['result'] as const,
  registers,
});

/** A Dropbox endpoint as a label: its path when it looks like one of Dropbox's routes, else "other". */
export function dropboxRouteLabel(url: string): string {
  const { pathname } = new URL(url);
  return /^\/(?:2|oauth2)\/[a-z_/]{1,80}$/u.test(pathname) ? pathname : 'other';
}

/** An HTTP answer (or none: `undefined`) as a result label. */
export function dropboxResultLabel(status: number | undefined): string {
  if (status === undefined) return 'network';
  if (status >= 200 && status < 300) return 'ok';
  if (status === 401 || status === 409 || status === 429) return String(status);
  return status >= 500 ? '5xx' : '4xx';
}

/** Counts one Dropbox call around `fetch`, whatever it answers or throws. */
export async function countDropboxCall(url: string, call: Promise<Response>): Promise<Response> {
  const route = dropboxRouteLabel(url);
  try {
    const res = await call;
    dropboxCalls.inc({ route, result: dropboxResultLabel(res.status) });
    return res;
  } catch (err) {
    dropboxCalls.inc({ route, result: dropboxResultLabel(undefined) });
    throw err;
  }
}

/**
 * The Temporal SDK's own metrics (task slots, poll and schedule-to-start latencies, cache) come
 * from its Rust core's exporter, which prom-client cannot own: a worker process binds it to a
 * loopback port and every `/metrics` of the process appends what it serves there.
 */
let sdkMetricsUrl: string | undefined;

export function includeSdkMetricsFrom(url: string): void {
  sdkMetricsUrl = url;
}

async function sdkMetricsText(): Promise<string> {
  if (!sdkMetricsUrl) return '';
  try {
    const res = await fetch(sdkMetricsUrl, { signal: AbortSignal.timeout(2_000) });
    return res.ok ? await res.text() : '';
  } catch {
    return '';
  }
}

/** What `/metrics` answers: the product's metrics, those of `extra` (e.g. the API's), then the SDK's. */
export async function metricsText(extra?: Registry): Promise<string> {
  const product = extra ? Registry.merge([metricsRegistry, extra]) : metricsRegistry;
  const [own, sdk] = await Promise.all([product.metrics(), sdkMetricsText()]);
  return sdk ? `${own.endsWith('\n') ? own : own + '\n'}${sdk}` : own;
}

export const metricsContentType = metricsRegistry.contentType;

/** A page's recording as `filesRecorded`, one series per kind of change. */
export function countRecordedFiles(counts: { added: number; updated: number; deleted: number }): void {
  for (const change of ['added', 'updated', 'deleted'] as const)
    filesRecorded.inc({ change }, counts[change]);
}
