/**
 * Credentials that outlive their access tokens, for real: the emulator's tokens live 15 seconds,
 * two Worker instances (each with its own Temporal connection and its own credentials provider,
 * as two worker processes would have) run the mappings of one connection, and the API starts
 * them. Shown: syncing past four lifetimes without needs_credentials; one refresh per lifetime
 * for 50 mappings whose token expires at once; a revoked grant stopping exactly its connection's
 * mappings within one poll interval, and a new refresh token resuming them at once.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { NativeConnection } from '@temporalio/worker';
import type { ActivityDeps } from '../../src/activities';
import { readWorkerConfig } from '../../src/config';
import { collections } from '../../src/db/collections';
import { createRepositories } from '../../src/db/repositories';
import { createPathPolicy, DEFAULT_SPECIAL_CHARACTERS } from '../../src/domain/pathPolicy';
import { createDropboxClient } from '../../src/dropbox/client';
import { createCredentialsProvider } from '../../src/dropbox/credentials/credentialsProvider';
import { createLogger } from '../../src/log';
import { connectTemporalWorker, createSyncWorker, type SyncWorker } from '../../src/worker';
import { makeVersionCurrent } from '../../src/workerDeployment';
import { eventually } from '../support/eventually';
import { requireEnv } from '../support/testEnv';
import { createProjectAdmin, dropboxBase, expectStatus, type ProjectAdmin } from '../api/fixtures';
import { type ApiHarness, startApiHarness } from '../api/harness';

const LIFETIME_S = 15;
const POLL_MS = 5_000;

interface RunningWorker {
  worker: SyncWorker;
  running: Promise<void>;
  connection: NativeConnection;
  /** Credentials handed to this worker's activities. */
  loads: number;
}

describe('refresh tokens with 15-second access tokens, two workers', () => {
  let h: ApiHarness;
  let admin: ProjectAdmin;
  const workers: RunningWorker[] = [];
  const figures: string[] = [];

  before(async () => {
    h = await startApiHarness({ pollIntervalMs: POLL_MS });
    admin = await createProjectAdmin(h);
    const config = readWorkerConfig({
      MONGODB_URI: requireEnv('MONGODB_URI'),
      TEMPORAL_ADDRESS: requireEnv('TEMPORAL_ADDRESS'),
      TEMPORAL_NAMESPACE: h.temporal.options.namespace,
      TASK_QUEUE: h.taskQueue,
      DROPBOX_API_URL: h.emulator.url,
      TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
    });
    for (let i = 0; i < 2; i++) {
      const repos = createRepositories(h.db);
      const dropbox = createDropboxClient({ apiUrl: h.emulator.url, requestTimeoutMs: 5_000 });
      const provider = createCredentialsProvider({ store: repos, tokens: dropbox, cipher: h.deps.cipher });
      const entry = { loads: 0 } as RunningWorker;
      const deps: ActivityDeps = {
        repos,
        dropbox,
        credentials: {
          forConnection: (c) => {
            entry.loads += 1;
            return provider.forConnection(c);
          },
        },
        pathPolicy: createPathPolicy(DEFAULT_SPECIAL_CHARACTERS),
        pageLimit: 2000,
        log: createLogger({ level: 'warn', write: (line) => h.logLines.push(line) }),
      };
      entry.connection = await connectTemporalWorker(config);
      entry.worker = await createSyncWorker({ config, connection: entry.connection, deps, tuning: { shutdownGraceTime: '1s' } });
      entry.running = entry.worker.run();
      entry.running.catch(() => undefined);
      workers.push(entry);
      // Versioned workers: nothing is routed to this build until it is the deployment's current one.
      await makeVersionCurrent(
        entry.connection.workflowService,
        config.temporal.namespace,
        entry.worker.version,
      );
    }
  });

  after(async () => {
    for (const w of workers) w.worker.shutdown();
    await Promise.allSettled(workers.map((w) => w.running));
    await Promise.allSettled(workers.map((w) => w.connection.close()));
    await h?.close();
    if (figures.length > 0) console.log(`refreshing tokens:\n  ${figures.join('\n  ')}`);
  });

  const api = (method: string, path: string, body?: unknown) =>
    h.call(method, `${dropboxBase(admin)}${path}`, { key: admin.key, ...(body === undefined ? {} : { body }) });

  /** An account whose app issues 15-second access tokens, connected with a refresh token. */
  async function refreshConnection(label: string) {
    const { accountId, email } = h.emulator.addAccount({ email: `${label}-${randomBytes(3).toString('hex')}@example.com` });
    const app = h.emulator.registerApp({ redirectUris: [], accessTokenLifetimeSeconds: LIFETIME_S });
    const refreshToken = h.emulator.grantOffline(app.appKey, accountId, { pkce: true });
    const res = await api('POST', '/connections', { clientIdentification: email, refreshToken, appKey: app.appKey });
    expectStatus(res, 201);
    return { accountId, app, refreshToken, connectionId: res.body.id as string };
  }

  async function map(connectionId: string, dropboxPath: string): Promise<string> {
    const res = await api('POST', '/mappings', { connectionId, dropboxPath });
    expectStatus(res, 201);
    return res.body.id as string;
  }

  const fileNames = async (mappingId: string) => {
    const res = await api('GET', `/mappings/${mappingId}/files?limit=1000`);
    expectStatus(res, 200);
    return (res.body.files as { name: string }[]).map((f) => f.name).sort();
  };

  /** Mapping states as the workflows record them, sampled until stopped. */
  function sampleStates(mappingIds: string[]) {
    const seen = new Map<string, number>();
    let stop = false;
    const done = (async () => {
      while (!stop) {
        const docs = await collections(h.db).mappings.find({ _id: { $in: mappingIds } }).toArray();
        for (const d of docs) seen.set(d.state, (seen.get(d.state) ?? 0) + 1);
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    return async () => {
      stop = true;
      await done;
      return seen;
    };
  }

  it('syncs a file added after each of four token lifetimes, never needing credentials', async () => {
    const c = await refreshConnection('lifetimes');
    h.emulator.addFolder(c.accountId, '/Site');
    h.emulator.addFile(c.accountId, '/Site/start.pdf');
    const mappingId = await map(c.connectionId, '/Site');
    const started = Date.now();
    const stopSampling = sampleStates([mappingId]);
    await eventually(async () => assert.deepEqual(await fileNames(mappingId), ['start.pdf']), 15_000);
    const expected = ['start.pdf'];
    for (let lifetime = 1; lifetime <= 4; lifetime++) {
      const wait = started + lifetime * LIFETIME_S * 1000 + 500 - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const name = `after-lifetime-${lifetime}.pdf`;
      h.emulator.addFile(c.accountId, `/Site/${name}`);
      expected.push(name);
      const added = Date.now();
      await eventually(async () => assert.deepEqual(await fileNames(mappingId), [...expected].sort()), POLL_MS + 5_000);
      figures.push(`lifetime ${lifetime}: file synced ${((Date.now() - added) / 1000).toFixed(1)} s after it was added`);
    }
    const states = await stopSampling();
    assert.deepEqual([...states.keys()], ['active'], `states seen: ${JSON.stringify([...states])}`);
    const refreshes = h.emulator.tokenCalls().refreshedAt[c.refreshToken] ?? [];
    // One at login, then one per lifetime that passed.
    assert.ok(refreshes.length >= 5 && refreshes.length <= 6, `refreshes: ${refreshes.length}`);
    figures.push(`one mapping over ${((Date.now() - started) / 1000).toFixed(0)} s: ${refreshes.length} refreshes`);
  });

  it('refreshes once per lifetime for 50 mappings of one connection across two workers', async () => {
    const c = await refreshConnection('many');
    const folders = Array.from({ length: 50 }, (_, i) => `/Site ${String(i).padStart(2, '0')}`);
    for (const folder of folders) h.emulator.addFile(c.accountId, `${folder}/first.dwg`);
    const mappingIds: string[] = [];
    for (const folder of folders) mappingIds.push(await map(c.connectionId, folder));
    await eventually(async () => {
      for (const id of mappingIds) assert.deepEqual(await fileNames(id), ['first.dwg']);
    }, 60_000, 1_000);
    const loadsBefore = workers.map((w) => w.loads);
    const stopSampling = sampleStates(mappingIds);
    const windowStart = Date.now();
    // Three lifetimes of cycles every five seconds: every mapping meets each expiry.
    await new Promise((r) => setTimeout(r, 3 * LIFETIME_S * 1000));
    for (const folder of folders) h.emulator.addFile(c.accountId, `${folder}/second.dwg`);
    await eventually(async () => {
      for (const id of mappingIds) assert.deepEqual(await fileNames(id), ['first.dwg', 'second.dwg']);
    }, POLL_MS + 20_000, 1_000);
    const states = await stopSampling();
    assert.deepEqual([...states.keys()], ['active'], `states seen: ${JSON.stringify([...states])}`);

    const refreshes = (h.emulator.tokenCalls().refreshedAt[c.refreshToken] ?? []).filter((t) => t >= windowStart);
    const gaps = refreshes.slice(1).map((t, i) => (t - (refreshes[i] as number)) / 1000);
    const seconds = (Date.now() - windowStart) / 1000;
    assert.ok(refreshes.length >= 3, `at least one refresh per lifetime: ${refreshes.length} in ${seconds.toFixed(0)} s`);
    assert.ok(refreshes.length <= Math.ceil(seconds / (LIFETIME_S * 0.9)), `${refreshes.length} refreshes in ${seconds.toFixed(0)} s`);
    // A tenth of the lifetime early at the soonest: never two refreshes in one lifetime.
    for (const gap of gaps) assert.ok(gap >= LIFETIME_S * 0.9 - 0.5, `refreshes ${gap.toFixed(1)} s apart: ${gaps.join(', ')}`);
    const loads = workers.map((w, i) => w.loads - (loadsBefore[i] ?? 0));
    assert.ok(loads.every((n) => n > 0), `both workers ran the mappings' calls: ${loads.join(', ')}`);
    figures.push(
      `50 mappings, 2 workers, ${seconds.toFixed(0)} s: ${refreshes.length} refreshes, gaps ${gaps.map((g) => g.toFixed(1)).join(', ')} s; credentials loads per worker ${loads.join(', ')}`,
    );
  });

  it("stops a revoked connection's mappings within one poll interval, keeps the others, and resumes on a new refresh token", async () => {
    const revoked = await refreshConnection('revoked');
    const other = await refreshConnection('other');
    const ids: string[] = [];
    for (const folder of ['/A', '/B', '/C']) {
      h.emulator.addFile(revoked.accountId, `${folder}/plan.pdf`);
      ids.push(await map(revoked.connectionId, folder));
    }
    h.emulator.addFile(other.accountId, '/Other/plan.pdf');
    const otherId = await map(other.connectionId, '/Other');
    await eventually(async () => {
      for (const id of [...ids, otherId]) assert.deepEqual(await fileNames(id), ['plan.pdf']);
    }, 20_000, 500);

    h.emulator.revokeGrant(revoked.refreshToken);
    const revokedAt = Date.now();
    h.emulator.addFile(other.accountId, '/Other/after-revoke.pdf');
    await eventually(async () => {
      for (const id of ids) {
        const res = await api('GET', `/mappings/${id}`);
        assert.equal(res.body.state, 'needs_credentials');
        assert.match(res.body.lastError as string, /Reconnect the Dropbox account/u);
      }
    }, POLL_MS + 5_000, 200);
    const stoppedIn = (Date.now() - revokedAt) / 1000;
    // The next cycle (at most one interval away) meets the revocation; its failed refresh and the
    // state's write to MongoDB took up to 1.5 s more on a loaded CI machine (6.5 s once).
    assert.ok(stoppedIn <= POLL_MS / 1000 + 3, `all needs_credentials ${stoppedIn.toFixed(1)} s after the revocation`);
    await eventually(async () => assert.deepEqual(await fileNames(otherId), ['after-revoke.pdf', 'plan.pdf']), POLL_MS + 5_000);
    assert.equal((await api('GET', `/mappings/${otherId}`)).body.state, 'active');

    // A new refresh token through PUT …/token: the mappings resume on the signal, not at their next interval.
    h.emulator.addFile(revoked.accountId, '/A/after-reconnect.pdf');
    const fresh = h.emulator.grantOffline(revoked.app.appKey, revoked.accountId, { pkce: true });
    const put = await api('PUT', `/connections/${revoked.connectionId}/token`, { refreshToken: fresh, appKey: revoked.app.appKey });
    expectStatus(put, 200);
    const resumedFrom = Date.now();
    await eventually(async () => {
      for (const id of ids) assert.equal((await api('GET', `/mappings/${id}`)).body.state, 'active');
      assert.deepEqual(await fileNames(ids[0] as string), ['after-reconnect.pdf', 'plan.pdf']);
    }, POLL_MS, 200);
    figures.push(
      `revocation: 3 mappings needs_credentials within ${stoppedIn.toFixed(1)} s (poll ${POLL_MS / 1000} s); resumed ${((Date.now() - resumedFrom) / 1000).toFixed(1)} s after the new refresh token`,
    );
  });
});
