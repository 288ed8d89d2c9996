/**
 * `npm run dev`: the whole product on loopback with nothing configured. It installs and starts
 * the Temporal dev server (Web UI, a database file so workflows survive a restart) and FerretDB,
 * runs the Dropbox emulator in demo mode, then the worker and the API in this process, creates a
 * demo organization, project, admin and connection, and prints how to use them.
 *
 * Whatever the environment names is used as it is: MONGODB_URI, TEMPORAL_ADDRESS and
 * DROPBOX_API_URL replace the embedded servers. With MONGODB_URI and TEMPORAL_ADDRESS both set
 * and no DROPBOX_API_URL, the product talks to real Dropbox and only the worker and API run.
 * Ctrl-C stops all of it.
 *
 * Every line in the terminal is the product's log (pino, pretty in a terminal, JSON otherwise);
 * the Temporal dev server and FerretDB write theirs to files under the data directory, which the
 * banner names.
 */
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { startApi } from '../api/main';
import { readApiConfig } from '../config';
import { createLogger, type Logger, type LogLevel } from '../log';
import { connectTemporalWorker, startWorker } from '../worker';
import { makeVersionCurrent, makeVersionCurrentIfNone } from '../workerDeployment';
import { installWorkerRuntime } from '../workerRuntime';
import { seedDemo, startDropboxEmulator } from './dropboxEmulator/index';
import { demoCurlLines, ensureDemo } from './demoSetup';
import { createDevState } from './devState';
import { findFreePort, preferredOrFreePort } from '../ports';
import { startFerretDb, startTemporalDevServer } from './servers';
import { defaultCacheDir, installTools } from './tools';

const LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];
// Before the config is read (it needs the servers started first); the config validates LOG_LEVEL.
const level = LEVELS.find((l) => l === process.env.LOG_LEVEL) ?? 'info';
const log: Logger = createLogger({ level });
// The launcher's own lines are the banner a person starts from: shown whatever LOG_LEVEL quiets.
const devLog = createLogger({ level: level === 'debug' ? 'debug' : 'info', fields: { service: 'dev' } });
const say = (line: string): void => devLog.info(line);

/** A server's own output, appended to a file: its lines would otherwise break up the product's log. */
function outputFile(path: string): (line: string) => void {
  const file = createWriteStream(path, { flags: 'a' });
  return (line) => file.write(`${line}\n`);
}

async function main(stops: (() => Promise<void>)[]): Promise<void> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  const state = createDevState(resolve(env.DFS_DATA_DIR ?? join(__dirname, '..', '..', '.dev-data')));
  await state.lock();
  const logsDir = join(state.dataDir, 'logs');
  await mkdir(logsDir, { recursive: true });
  const embedMongo = !env.MONGODB_URI;
  const embedTemporal = !env.TEMPORAL_ADDRESS;
  const demoDropbox = env.DFS_DEMO_DROPBOX
    ? env.DFS_DEMO_DROPBOX === '1'
    : !env.DROPBOX_API_URL && (embedMongo || embedTemporal);

  const secrets = await state.secrets();
  env.TOKEN_ENCRYPTION_KEY ??= secrets.tokenEncryptionKey;
  env.ROOT_API_KEY ??= secrets.rootApiKey;

  let uiUrl: string | undefined;
  if (embedMongo || embedTemporal) {
    // Only what runs embedded: with MONGODB_URI given, no Go is needed to build FerretDB.
    const tools = await installTools({
      cacheDir: defaultCacheDir(env),
      env,
      log: say,
      only: { temporalCli: embedTemporal, ferretDb: embedMongo },
    });
    const [mongoUri, temporal] = await Promise.all([
      embedMongo
        ? startFerretDb({
            binPath: tools.ferretDb,
            dataDir: join(state.dataDir, 'ferretdb'),
            port: await preferredOrFreePort(27017),
            log: say,
            onOutput: outputFile(join(logsDir, 'ferretdb.log')),
          }).then((server) => {
            stops.unshift(() => server.stop());
            return new URL('dropbox_folder_sync', server.uri).toString();
          })
        : undefined,
      embedTemporal
        ? startTemporalDevServer({
            cliPath: tools.temporalCli,
            dbFile: join(state.dataDir, 'temporal.db'),
            port: await preferredOrFreePort(7233),
            uiPort: await preferredOrFreePort(8233),
            log: say,
            onOutput: outputFile(join(logsDir, 'temporal.log')),
          }).then((server) => {
            stops.unshift(() => server.stop());
            return server;
          })
        : undefined,
    ]);
    if (mongoUri) env.MONGODB_URI = mongoUri;
    if (temporal) {
      // The shell's settings for another Temporal would point the worker at a namespace the dev
      // server lacks, or turn TLS on against it.
      for (const name of ['TEMPORAL_NAMESPACE', 'TEMPORAL_API_KEY', 'TEMPORAL_TLS']) delete env[name];
      env.TEMPORAL_ADDRESS = temporal.address;
      uiUrl = temporal.uiUrl;
      // The admin page links each mapping to its workflow there.
      env.TEMPORAL_UI_URL ??= uiUrl;
    }
  }

  // Known before the API starts: Dropbox's OAuth redirect URI is built on it.
  if (!env.PORT || env.PORT === '0') env.PORT = String(env.PORT === '0' ? await findFreePort() : await preferredOrFreePort(3000));
  env.PUBLIC_URL ??= `http://127.0.0.1:${env.PORT}`;

  let demoSeed;
  let emulator;
  if (demoDropbox) {
    emulator = await startDropboxEmulator({ port: await preferredOrFreePort(8787) });
    const started = emulator;
    stops.unshift(() => started.close());
    demoSeed = seedDemo(emulator, { redirectUris: [`${env.PUBLIC_URL.replace(/\/+$/u, '')}/v1/dropbox/oauth/callback`] });
    env.DROPBOX_API_URL = emulator.url;
    // The demo app is the service's own: "Connect with Dropbox" goes to the emulator's consent
    // page, and the emulator signs its webhooks with the app's secret.
    env.DROPBOX_APP_KEY = demoSeed.appKey;
    env.DROPBOX_APP_SECRET = demoSeed.appSecret;
    env.DROPBOX_OAUTH_URL = emulator.url;
    say(`Dropbox emulator (demo account ${demoSeed.email}, demo app ${demoSeed.appKey}) at ${emulator.url}`);
  }
  // One build id across restarts: the development database's mappings are pinned to it, and a
  // build id per commit would leave them pinned to a build no worker runs any more. A changed
  // workflow then replays their runs, as it would without versioning (README, rollouts). On a
  // shared Temporal, one per machine: two developers' workers must not take each other's runs.
  env.WORKER_BUILD_ID ??= embedTemporal ? 'dev' : `dev-${hostname().replace(/[^\w.+-]/gu, '-').slice(0, 60)}`;

  const config = readApiConfig(env);
  await installWorkerRuntime(config, log.child({ service: 'worker' }));
  const worker = await startWorker(config, log.child({ service: 'worker' }));
  stops.unshift(async () => {
    // The SDK's runtime may already be draining it on the same Ctrl-C.
    worker.worker.shutdown();
    await worker.done;
  });
  // This checkout's build becomes the deployment's current version, so the mappings run on it;
  // on a Temporal of its own, or one whose deployment has no current version yet. A shared one
  // keeps its current version: its mappings go on running where they run.
  const deployment = await connectTemporalWorker(config);
  const { deploymentName, buildId } = worker.version;
  const made = await (embedTemporal
    ? makeVersionCurrent(deployment.workflowService, config.temporal.namespace, worker.version).then(() => ({ made: true as const }))
    : makeVersionCurrentIfNone(deployment.workflowService, config.temporal.namespace, worker.version)
  ).finally(() => deployment.close());
  if (made.made) say(`worker deployment ${deploymentName}, current build ${buildId}`);
  else {
    say(
      `worker deployment ${deploymentName}: its current build is ${made.current}, left as it is; this worker (build ${buildId}) ` +
        `runs only the mappings started on it. To move them here: temporal worker deployment set-current-version ` +
        `--deployment-name ${deploymentName} --build-id ${buildId}`,
    );
  }
  const api = await startApi(config, log.child({ service: 'api' }));
  stops.unshift(() => api.stop());
  if (emulator && config.dropbox.appKey && config.dropbox.appSecret) {
    // As an admin pastes the URI into the App Console: changes in the demo Dropbox show at once.
    await emulator.registerWebhook({
      appKey: config.dropbox.appKey,
      appSecret: config.dropbox.appSecret,
      uri: `${api.url}/v1/dropbox/webhook`,
    });
  }

  const lines = [
    `dropbox-folder-sync is running (Ctrl-C stops it all)`,
    `  Admin page  ${api.url}/   (sign in with an admin's key)`,
    `  API         ${api.url}   (OpenAPI: ${api.url}/openapi.json, metrics: ${api.url}/metrics)`,
    `  Temporal    ${config.temporal.address}${uiUrl ? `   Web UI: ${uiUrl}` : ''}`,
    `  MongoDB     ${embedMongo ? 'FerretDB, data in ' + join(state.dataDir, 'ferretdb') : 'from MONGODB_URI'}`,
    `  Dropbox     ${demoDropbox ? `demo emulator at ${config.dropbox.apiUrl} (webhooks to ${api.url}/v1/dropbox/webhook)` : config.dropbox.apiUrl}`,
    `  Root key    in ${join(state.dataDir, 'secrets.json')} (unless ROOT_API_KEY is set)`,
  ];
  if (embedMongo || embedTemporal) lines.push(`  Server logs ${logsDir}`);
  if (demoSeed) {
    const demo = await ensureDemo({ apiUrl: api.url, rootKey: config.rootApiKey, seed: demoSeed, state });
    lines.push(
      `  Demo admin  API key ${demo.apiKey}`,
      `              project ${demo.projectId}, connection ${demo.connectionId ?? '-'}`,
      ...demoCurlLines(api.url, demo, demoSeed.folderPath).map((line) => `  ${line}`),
    );
  }
  // Line by line through the log: a terminal shows a banner, a log collector one record a line.
  for (const line of lines) say(line);
}

async function stopAll(stops: (() => Promise<void>)[]): Promise<void> {
  // Newest first: the API and worker before the servers they talk to.
  for (const stop of stops.splice(0)) {
    await stop().catch((err: unknown) =>
      say(`while stopping: ${err instanceof Error ? err.message : String(err)}`),
    );
  }
}

const stops: (() => Promise<void>)[] = [];
let stopping = false;
const shutdown = (signal: string) => {
  if (stopping) {
    // A second Ctrl-C does not wait for the drain: whatever still runs is killed on exit.
    say(`${signal} again: stopping at once`);
    process.exit(130);
  }
  stopping = true;
  say(`${signal}: stopping`);
  void stopAll(stops).then(() => process.exit(0));
};
process.on('SIGINT', () => shutdown('SIGINT'));
process.on('SIGTERM', () => shutdown('SIGTERM'));

main(stops).catch(async (err: unknown) => {
  devLog.error('could not start', { error: err });
  await stopAll(stops);
  process.exit(1);
});
