import { createServer, type Server } from 'node:http';
import { Client, Connection } from '@temporalio/client';
import { readApiConfig, type ApiConfig } from '../config';
import { ensureIndexes } from '../db/collections';
import { connectMongo } from '../db/mongo';
import { createRepositories } from '../db/repositories';
import { createPathPolicy } from '../domain/pathPolicy';
import { createDropboxClient } from '../dropbox/client';
import { createCredentialsProvider } from '../dropbox/credentials/credentialsProvider';
import { createLogger, type Logger } from '../log';
import { missingSearchAttributes } from '../searchAttributes';
import { createTokenCipher } from '../security/tokenCipher';
import { createContentLinks } from '../security/contentLinks';
import { answerClientErrors } from './clientErrors';
import { createApp } from './app';
import { readinessOf } from './readiness';
import { createSyncWorkflows } from './syncWorkflows';
import { dropboxAppSecrets } from './webhookRouter';

// In-flight requests get this long to finish once SIGTERM arrives; then connections are cut.
const SHUTDOWN_GRACE_MS = 10_000;

async function connectTemporal(config: ApiConfig): Promise<Connection> {
  return Connection.connect({
    address: config.temporal.address,
    ...(config.temporal.tls ? { tls: true } : {}),
    ...(config.temporal.apiKey ? { apiKey: config.temporal.apiKey } : {}),
  });
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function closeServer(server: Server, log: Logger): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => {
      log.warn('requests still running at the end of the grace period; closing their connections');
      server.closeAllConnections();
    }, SHUTDOWN_GRACE_MS);
    force.unref();
    // Stops accepting, lets in-flight requests finish, then resolves.
    server.close(() => {
      clearTimeout(force);
      resolve();
    });
    server.closeIdleConnections();
  });
}

/**
 * Says at start, rather than at the first mapping's 503, that the namespace lacks the search
 * attributes (README, "Deploying"). It does not hold the start: Temporal may come up later.
 */
function warnOfMissingSearchAttributes(connection: Connection, namespace: string, log: Logger): void {
  missingSearchAttributes(connection.operatorService, namespace).then(
    (missing) => {
      if (missing.length === 0) return;
      log.error('the Temporal namespace lacks search attributes the mappings need: every new mapping will be refused until they are added', {
        namespace,
        missing,
        add: missing.map((name) => `temporal operator search-attribute create --namespace ${namespace} --name ${name} --type Keyword`),
      });
    },
    (err: unknown) => log.warn('could not list the Temporal namespace\'s search attributes', { namespace, error: err as Error }),
  );
}

export interface RunningApi {
  url: string;
  /** Stops accepting, lets in-flight requests finish, closes the connections. */
  stop(): Promise<void>;
}

/** Connects to MongoDB and Temporal and serves the API; `npm run dev` runs it in-process. */
export async function startApi(config: ApiConfig, log: Logger): Promise<RunningApi> {
  const mongo = await connectMongo(config.mongodbUri);
  await ensureIndexes(mongo.db);
  const connection = await connectTemporal(config);
  const client = new Client({ connection, namespace: config.temporal.namespace });
  warnOfMissingSearchAttributes(connection, config.temporal.namespace, log);

  const repos = createRepositories(mongo.db);
  const dropbox = createDropboxClient({ apiUrl: config.dropbox.apiUrl });
  const cipher = createTokenCipher(config.tokenEncryptionKey);
  const app = createApp({
    repos,
    dropbox,
    syncWorkflows: createSyncWorkflows({
      client,
      taskQueue: config.taskQueue,
      pollIntervalMs: config.pollIntervalMs,
      cyclesPerRun: config.cyclesPerRun,
      log,
    }),
    cipher,
    credentials: createCredentialsProvider({ store: repos, tokens: dropbox, cipher }),
    pathPolicy: createPathPolicy(config.specialCharacters),
    config: {
      rootApiKey: config.rootApiKey,
      dropbox: { appKey: config.dropbox.appKey, appSecret: config.dropbox.appSecret, oauthUrl: config.dropbox.oauthUrl },
      publicUrl: config.publicUrl,
      temporalUi: config.temporalUiUrl
        ? { url: config.temporalUiUrl, namespace: config.temporal.namespace }
        : undefined,
    },
    log,
    readiness: readinessOf(mongo.db, client),
    dropboxApps: dropboxAppSecrets({ config, connections: repos.connections, cipher }),
    contentLinks: createContentLinks(config.tokenEncryptionKey),
  });

  const server = createServer(app);
  answerClientErrors(server);
  await listen(server, config.port, config.host);
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://${host}:${port}`;
  log.info('api listening', { url, taskQueue: config.taskQueue });

  let stopped: Promise<void> | undefined;
  return {
    url,
    stop() {
      stopped ??= (async () => {
        await closeServer(server, log);
        await Promise.allSettled([mongo.client.close(), connection.close()]);
        log.info('api stopped');
      })();
      return stopped;
    },
  };
}

async function main(): Promise<void> {
  const config = readApiConfig();
  const log = createLogger({ level: config.logLevel, fields: { service: 'api' } });
  const api = await startApi(config, log);
  const stop = (signal: string) => {
    log.info('api stopping', { signal });
    void api.stop();
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

if (require.main === module) {
  main().catch((err: unknown) => {
    // The config error names the variable; connection errors say which server. Never a stack of secrets.
    process.stderr.write(`api failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
