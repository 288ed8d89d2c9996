/**
 * Webhook latency: `npx tsx bench/webhookLatency.ts [--accounts 50] [--per-account 10]
 * [--minutes 3] [--rate 2]`. Mappings on `accounts` Dropbox accounts (`per-account` folders
 * each), polled every ten minutes; the API and a worker in this process (as `npm run dev` runs
 * them), the emulator registered with the API's webhook URL. Files are added at `rate` a second,
 * each to a random mapped folder, for `minutes`; for each, the time from the emulator's write to
 * the file's record being in MongoDB (what `GET …/mappings/:m/files/:fileId` reads): when the
 * worker's insert of it was answered, seen on the worker's MongoDB client; each record is then
 * read once by `_id` and asked for through that route once, which must answer 200; and the
 * Dropbox calls it cost. A tenth of the accounts get no file, to show that other accounts' mappings cost nothing.
 */
import { randomBytes } from 'node:crypto';
import { Runtime, DefaultLogger } from '@temporalio/worker';
import { startApi } from '../src/api/main';
import { readApiConfig } from '../src/config';
import { collections } from '../src/db/collections';
import { fileRecordId } from '../src/db/filePlan';
import { silentLogger } from '../src/log';
import { startWorker } from '../src/worker';
import { makeVersionCurrent } from '../src/workerDeployment';
import { mapLimit, sleep } from './fixture';
import { machineLine } from './machine';
import { fmt, percentile, say } from './report';
import { openStack } from './stack';

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

async function main(): Promise<void> {
  const accounts = flag('accounts', 50);
  const perAccount = flag('per-account', 10);
  const minutes = flag('minutes', 3);
  const rate = flag('rate', 2);
  Runtime.install({ logger: new DefaultLogger('WARN') });
  say(machineLine());
  say(`command: npx tsx bench/webhookLatency.ts ${process.argv.slice(2).join(' ')}`.trimEnd());
  const stack = await openStack();
  const stops: (() => Promise<void>)[] = [];
  /** Per file record, when the worker's insert of it was answered: from then on it is readable. */
  const insertedAt = new Map<string, number>();
  try {
    const { uri, db } = await stack.openDb('webhooks');
    const appSecret = randomBytes(32).toString('hex');
    const rootKey = randomBytes(24).toString('hex');
    const config = readApiConfig({
      MONGODB_URI: uri,
      TEMPORAL_ADDRESS: stack.temporalAddress,
      TEMPORAL_NAMESPACE: stack.namespace,
      TASK_QUEUE: `bench-webhooks-${randomBytes(3).toString('hex')}`,
      POLL_INTERVAL: '10m',
      DROPBOX_API_URL: stack.emulator.url,
      TOKEN_ENCRYPTION_KEY: stack.tokenKeyHex,
      ROOT_API_KEY: rootKey,
      PORT: '0',
      DROPBOX_APP_KEY: 'bench-app',
      DROPBOX_APP_SECRET: appSecret,
    });
    // The worker on a MongoDB client that reports its commands: the answer to the insert of a
    // file's record is when the file became readable, known without asking the database (on
    // FerretDB each read, even by `_id`, is one more scan of a table).
    const worker = await startWorker(config, silentLogger, { monitorCommands: true });
    stops.unshift(async () => {
      worker.worker.shutdown();
      await worker.done;
    });
    const insertIds = new Map<number, string[]>();
    worker.mongo.on('commandStarted', (e) => {
      if (e.commandName !== 'insert' || e.command['insert'] !== 'files') return;
      insertIds.set(
        e.requestId,
        (e.command['documents'] as { _id: string }[]).map((d) => d._id),
      );
    });
    worker.mongo.on('commandSucceeded', (e) => {
      const ids = insertIds.get(e.requestId);
      if (!ids) return;
      insertIds.delete(e.requestId);
      const { writeErrors = [] } = e.reply as { writeErrors?: { index: number }[] };
      const failed = new Set(writeErrors.map((w) => w.index));
      const at = Date.now();
      ids.forEach((id, n) => {
        if (!failed.has(n) && !insertedAt.has(id)) insertedAt.set(id, at);
      });
    });
    worker.mongo.on('commandFailed', (e) => insertIds.delete(e.requestId));
    // The worker polls as a deployment version; mappings are routed to it once it is current.
    await makeVersionCurrent(stack.client.workflowService, stack.namespace, worker.version);
    const api = await startApi(config, silentLogger);
    stops.unshift(() => api.stop());

    const call = async (method: string, path: string, key: string, body?: unknown) => {
      const res = await fetch(`${api.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
      return text ? (JSON.parse(text) as Record<string, unknown>) : {};
    };
    const org = await call('POST', '/v1/orgs', rootKey, { name: 'Bench', features: { dropbox: true } });
    const project = await call('POST', `/v1/orgs/${String(org.id)}/projects`, rootKey, { name: 'Bench' });
    const user = await call('POST', '/v1/users', rootKey, { email: 'bench-admin@example.com' });
    const projectId = String(project.id);
    await call('PUT', `/v1/projects/${projectId}/members/${String(user.id)}`, rootKey, { role: 'admin' });
    const key = String(user.apiKey);
    const base = `/v1/projects/${projectId}/dropbox`;
    // Through the API: the file's own route answers 200 (404 until a cycle records it).
    const readableThroughApi = async (m: Mapped, fileId: string) => {
      const res = await fetch(
        `${api.url}${base}/mappings/${m.mappingId}/files/${encodeURIComponent(fileId)}`,
        {
          headers: { authorization: `Bearer ${key}` },
        },
      );
      await res.arrayBuffer();
      if (res.status !== 200 && res.status !== 404) throw new Error(`probe of ${fileId}: ${res.status}`);
      return res.status === 200;
    };

    interface Mapped {
      mappingId: string;
      accountId: string;
      token: string;
      folder: string;
    }
    const started = Date.now();
    const mapped = (
      await mapLimit(
        Array.from({ length: accounts }, (_, i) => i),
        4,
        async (i) => {
          const email = `site-${i}@example.com`;
          const { accountId } = stack.emulator.addAccount({ email });
          const token = stack.emulator.issueToken(accountId);
          const connection = await call('POST', `${base}/connections`, key, {
            clientIdentification: email,
            accessToken: token,
          });
          const out: Mapped[] = [];
          for (let f = 0; f < perAccount; f++) {
            const folder = `/Sites/Folder ${f}`;
            stack.emulator.bulkAddFiles(accountId, folder, 5);
            const mapping = await call('POST', `${base}/mappings`, key, {
              connectionId: connection.id,
              dropboxPath: folder,
            });
            out.push({ mappingId: String(mapping.id), accountId, token, folder });
          }
          return out;
        },
      )
    ).flat();
    say(
      `${mapped.length} mappings on ${accounts} accounts created in ${fmt((Date.now() - started) / 1000, 1)} s`,
    );
    // Let every first sync finish, its contents copied too, before the webhook goes in: the
    // window then counts only what notifications cost. Read from MongoDB every 2 s, not through
    // the API per mapping: on FerretDB each page of `…/files` reads every record, and polling
    // 500 mappings that way was most of the database's work.
    const { files: fileRecords, contents } = collections(db);
    const expected = mapped.length * 5;
    while ((await fileRecords.countDocuments({})) < expected) await sleep(2_000);
    say(`first syncs listed at ${fmt((Date.now() - started) / 1000, 1)} s`);
    while ((await contents.countDocuments({ state: 'stored' })) < expected) await sleep(2_000);
    say(`first syncs' contents stored at ${fmt((Date.now() - started) / 1000, 1)} s`);
    await stack.emulator.registerWebhook({
      appKey: 'bench-app',
      appSecret,
      uri: `${api.url}/v1/dropbox/webhook`,
    });
    await sleep(2_000);

    stack.emulator.resetCalls();
    const hooksBefore = stack.emulator.webhookCounts();
    let missed = 0;
    // A file's latency ends when the worker's insert of its record was answered (above). Then its
    // record is read once by `_id`, as `GET …/mappings/:m/files/:fileId` reads it (its `syncedAt`,
    // the worker's clock as it began the write, bounds the figure below), and asked for through
    // that route once, which must answer 200. Until 68c6c51 four pollers read every waiting file
    // every 50 ms: on FerretDB a read by `_id` still scans the table in SQLite (a missing record
    // the whole of it), and at 500 mappings those reads were a quarter of FerretDB's CPU (pprof),
    // so the probes set the figure.
    const recordedAt = async (m: Mapped, fileId: string) =>
      (
        await fileRecords.findOne(
          { _id: fileRecordId(m.mappingId, fileId) },
          { projection: { _id: 1, syncedAt: 1 } },
        )
      )?.syncedAt ?? null;
    const waiting: { m: Mapped; id: string; written: number }[] = [];
    const latencies: number[] = [];
    const lowerBounds: number[] = [];
    const apiAnswers: Promise<{ ok: boolean; ms: number }>[] = [];
    let unreadable = 0;
    let adding = true;
    const poll = async () => {
      while (adding || waiting.length > 0) {
        await sleep(20);
        for (const next of waiting.splice(0)) {
          const inserted = insertedAt.get(fileRecordId(next.m.mappingId, next.id));
          if (inserted === undefined) {
            if (Date.now() - next.written > 60_000) missed += 1;
            else waiting.push(next);
            continue;
          }
          latencies.push(inserted - next.written);
          const syncedAt = await recordedAt(next.m, next.id);
          if (!syncedAt) {
            unreadable += 1;
            continue;
          }
          lowerBounds.push(syncedAt.getTime() - next.written);
          const askedApi = Date.now();
          apiAnswers.push(
            readableThroughApi(next.m, next.id)
              .catch(() => false)
              .then((ok) => ({ ok, ms: Date.now() - askedApi })),
          );
        }
      }
    };
    const pollers = poll();
    const touched = new Set<string>();
    const total = Math.round(minutes * 60 * rate);
    // A tenth of the accounts get no file: their mappings must cost no Dropbox call.
    const quiet = new Set(
      mapped.slice(-Math.max(1, Math.floor(accounts / 10)) * perAccount).map((m) => m.accountId),
    );
    const active = mapped.filter((m) => !quiet.has(m.accountId));
    for (let n = 0; n < total; n++) {
      const m = active[Math.floor(Math.random() * active.length)]!;
      touched.add(m.accountId);
      const name = `added-${n}.pdf`;
      const written = Date.now();
      const id = String(stack.emulator.addFile(m.accountId, `${m.folder}/${name}`).id);
      waiting.push({ m, id, written });
      await sleep(1000 / rate);
    }
    adding = false;
    await pollers;
    const answers = await Promise.all(apiAnswers);
    await sleep(2_000);
    const calls = stack.emulator.calls();
    const hooks = stack.emulator.webhookCounts();
    const notifications = hooks.delivered - hooksBefore.delivered;
    const untouchedTokens = [...new Set(mapped.filter((m) => !touched.has(m.accountId)).map((m) => m.token))];
    const untouchedCalls = untouchedTokens.reduce((sum, t) => sum + (calls.byToken[t] ?? 0), 0);
    say(
      `\n${total} files added at ${rate}/s over ${minutes} min to ${mapped.length} mappings (${accounts} accounts × ${perAccount}), poll interval 10 min`,
    );
    const line = (name: string, values: number[]) =>
      `${name}: p50 ${fmt(percentile(values, 50))} ms, p99 ${fmt(percentile(values, 99))} ms, max ${fmt(Math.max(...values))} ms`;
    say(
      `${line("write → recorded (the worker's insert answered)", latencies)}; not recorded within 60 s: ${missed}`,
    );
    say(`  ${line("lower bounds (the record's syncedAt)", lowerBounds)}`);
    say(`  then read by \`_id\`: ${lowerBounds.length} of ${latencies.length} found (${unreadable} not)`);
    say(
      `the file's route answered 200 for ${answers.filter((a) => a.ok).length} of ${answers.length} recorded files, in p50 ${fmt(
        percentile(
          answers.map((a) => a.ms),
          50,
        ),
      )} ms, p99 ${fmt(
        percentile(
          answers.map((a) => a.ms),
          99,
        ),
      )} ms`,
    );
    say(
      `notifications delivered ${notifications} (failed attempts ${hooks.failedAttempts - hooksBefore.failedAttempts}); Dropbox calls ${calls.total}: ${fmt(calls.total / Math.max(1, notifications), 1)} per notification, ${fmt(calls.total / total, 1)} per file; by route ${JSON.stringify(calls.byRoute)}`,
    );
    const untouchedRoutes: Record<string, number> = {};
    for (const [route, byToken] of Object.entries(calls.byTokenAndRoute))
      for (const t of untouchedTokens)
        if (byToken[t]) untouchedRoutes[route] = (untouchedRoutes[route] ?? 0) + byToken[t];
    say(
      `calls with the tokens of the ${untouchedTokens.length} accounts that got no file: ${untouchedCalls} ${JSON.stringify(untouchedRoutes)}`,
    );
  } finally {
    for (const stop of stops) await stop().catch(() => undefined);
    await stack.close();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(
      `bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  },
);
