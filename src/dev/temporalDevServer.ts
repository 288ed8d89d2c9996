import { Connection } from '@temporalio/client';
import { TypedSearchAttributes, type SearchAttributeType } from '@temporalio/common';
import { SEARCH_ATTRIBUTES } from '../workflows/definitions';
import { missingSearchAttributes } from '../searchAttributes';
import { startManagedProcess } from './childProcess';
import { findFreePort } from '../ports';
import { waitForReady } from './readiness';

/** Structurally what `defineSearchAttributeKey` returns. */
type AnySearchAttributeKey = { readonly name: string; readonly type: SearchAttributeType };

export interface TemporalDevServerOptions {
  cliPath: string;
  /** SQLite file that keeps workflows across restarts; in memory when absent. */
  dbFile?: string;
  ip?: string;
  port?: number;
  uiPort?: number;
  /** No Web UI: tests don't need it and start a little faster. */
  headless?: boolean;
  namespace?: string;
  /** Dynamic config settings, key to value (e.g. `limit.historyCount.suggestContinueAsNew`). */
  dynamicConfig?: Readonly<Record<string, string | number | boolean>>;
  /** Registered at start; the contract's keys from the workflow definitions by default. */
  searchAttributes?: readonly AnySearchAttributeKey[];
  startTimeoutMs?: number;
  log?: (line: string) => void;
  /** Receives the server's own output lines (warnings and errors only). */
  onOutput?: (line: string) => void;
}

export interface TemporalDevServer {
  /** host:port of the frontend gRPC service. */
  readonly address: string;
  readonly namespace: string;
  /** Web UI address, unless headless. */
  readonly uiUrl: string | undefined;
  stop(): Promise<void>;
}

/** Starts `temporal server start-dev` on loopback ports and waits until it serves the namespace. */
export async function startTemporalDevServer(options: TemporalDevServerOptions): Promise<TemporalDevServer> {
  const ip = options.ip ?? '127.0.0.1';
  const namespace = options.namespace ?? 'default';
  const port = options.port ?? (await findFreePort(ip));
  const uiPort = options.headless ? undefined : (options.uiPort ?? (await findFreePort(ip)));
  const address = `${ip}:${port}`;
  const searchAttributes = options.searchAttributes ?? SEARCH_ATTRIBUTES;
  const started = Date.now();

  const child = startManagedProcess({
    name: 'Temporal dev server',
    file: options.cliPath,
    args: devServerArgs({ ...options, ip, namespace, port, uiPort, searchAttributes }),
    onOutput: options.onOutput,
  });
  await waitForReady({
    process: child,
    probe: () => probeNamespace(address, namespace, searchAttributes),
    timeoutMs: options.startTimeoutMs ?? 60_000,
    what: `Temporal dev server on ${address}`,
  });
  const uiUrl = uiPort === undefined ? undefined : `http://${ip}:${uiPort}`;
  options.log?.(
    `Temporal dev server ready at ${address}${uiUrl ? `, Web UI ${uiUrl}` : ''} (${Date.now() - started} ms)`,
  );
  return { address, namespace, uiUrl, stop: () => child.stop() };
}

interface ResolvedArgs extends TemporalDevServerOptions {
  ip: string;
  namespace: string;
  port: number;
  uiPort: number | undefined;
  searchAttributes: readonly AnySearchAttributeKey[];
}

function devServerArgs(o: ResolvedArgs): string[] {
  const args = ['server', 'start-dev', '--ip', o.ip, '--port', String(o.port), '--log-level', 'warn'];
  if (o.uiPort === undefined) args.push('--headless');
  // No newsfeed request from the Web UI: the UI must work offline and not call out.
  else args.push('--ui-port', String(o.uiPort), '--ui-disable-news-fetch');
  if (o.dbFile) args.push('--db-filename', o.dbFile);
  if (o.namespace !== 'default') args.push('--namespace', o.namespace);
  for (const key of o.searchAttributes) {
    args.push('--search-attribute', `${key.name}=${TypedSearchAttributes.toMetadataType(key.type)}`);
  }
  const dynamicConfig = {
    // The server would otherwise phone home to check for newer versions.
    'frontend.enableServerVersionCheck': false,
    ...o.dynamicConfig,
  };
  // The CLI reads each value as JSON.
  for (const [key, value] of Object.entries(dynamicConfig)) {
    args.push('--dynamic-config-value', `${key}=${JSON.stringify(value)}`);
  }
  return args;
}

/** Ready means the namespace exists and the search attributes are registered in it. */
async function probeNamespace(
  address: string,
  namespace: string,
  keys: readonly AnySearchAttributeKey[],
): Promise<void> {
  const connection = await Connection.connect({ address, connectTimeout: 1_000 });
  try {
    const missing = await missingSearchAttributes(connection.operatorService, namespace, keys);
    if (missing.length > 0) throw new Error(`search attributes not registered yet: ${missing.join(', ')}`);
  } finally {
    await connection.close();
  }
}
