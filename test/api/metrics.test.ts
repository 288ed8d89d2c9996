/**
 * `GET /metrics` after a real sync over FerretDB, the Temporal dev server, a worker in-process and
 * the Dropbox emulator: the product's metrics carry the values of what happened, and no label
 * holds a secret, a path, a file name or an id.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { countDropboxCall } from '../../src/metrics';
import { eventually } from '../support/eventually';
import {
  assertError,
  connect,
  createProjectAdmin,
  dropboxAccount,
  dropboxBase,
  expectStatus,
  type DropboxTestAccount,
  type ProjectAdmin,
} from './fixtures';
import { type ApiHarness, startApiHarness } from './harness';

const SITE = '/Projects/Metrics Site';
const FILES = ['survey.pdf', 'facade.dwg', 'notes.txt'];
const REJECTED = 'budget#1?.xlsx';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parse(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/u.exec(line);
    assert.ok(match, `not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/gu))
      labels[key!] = value!;
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

describe('GET /metrics', () => {
  let h: ApiHarness;
  let admin: ProjectAdmin;
  let account: DropboxTestAccount;
  let mappingId: string;
  const badToken = 'sl.metrics-test-token-that-dropbox-refuses';

  const scrape = async () => {
    const res = await fetch(`${h.url}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/u);
    return parse(await res.text());
  };

  before(async () => {
    // A short poll interval: the second cycle is the timer's, whose start lag is measured.
    h = await startApiHarness({ worker: true, pollIntervalMs: 1_500 });
    admin = await createProjectAdmin(h);
    account = dropboxAccount(h);
    for (const name of [...FILES, REJECTED])
      h.emulator.addFile(account.accountId, `${SITE}/${name}`, { content: name });
  });

  after(async () => {
    await h?.close();
  });

  it('counts a sync: mappings by state, cycles, files recorded and rejected, Dropbox calls by result, the start lag', async () => {
    const connectionId = await connect(h, admin, account);
    const base = dropboxBase(admin);
    // A refused token (401) and a missing folder (409), through the API.
    const refused = await h.call('POST', `${base}/connections`, {
      key: admin.key,
      body: { clientIdentification: account.email, accessToken: badToken },
    });
    assert.equal(refused.status, 422);
    assertError(
      await h.call('GET', `${base}/connections/${connectionId}/folders?path=/Nowhere`, { key: admin.key }),
      404,
      'folder_not_found',
    );
    // The first listing meets a rate limit and an outage, then goes through on the retries.
    h.emulator.failNext({ status: 429, retryAfterSeconds: 1, route: 'files/list_folder' });
    h.emulator.failNext({ status: 503, route: 'files/list_folder' });

    const created = await h.call('POST', `${base}/mappings`, {
      key: admin.key,
      body: { connectionId, dropboxPath: SITE },
    });
    expectStatus(created, 201);
    mappingId = created.body.id as string;

    await eventually(
      async () => {
        const s = await scrape();
        assert.equal(value(s, 'dropbox_sync_mappings', { state: 'active' }), 1);
        assert.equal(value(s, 'dropbox_sync_mappings', { state: 'paused' }), 0);
        assert.ok(
          value(s, 'dropbox_sync_cycles_total', { outcome: 'ok' }) >= 2,
          'the first cycle and a timer cycle',
        );
        assert.equal(value(s, 'dropbox_sync_files_recorded_total', { change: 'added' }), FILES.length);
        assert.equal(value(s, 'dropbox_sync_files_rejected_total', { reason: 'special_characters' }), 1);
        const calls = (result: string, route?: string) =>
          value(s, 'dropbox_sync_dropbox_calls_total', { result, ...(route ? { route } : {}) });
        assert.ok(calls('ok', '/2/files/list_folder') >= 1);
        assert.ok(calls('ok', '/2/users/get_current_account') >= 2);
        assert.equal(calls('429', '/2/files/list_folder'), 1);
        assert.equal(calls('5xx', '/2/files/list_folder'), 1);
        assert.ok(calls('401', '/2/users/get_current_account') >= 1);
        assert.ok(calls('409', '/2/files/list_folder') >= 1, 'the missing folder');
        const lagCount = value(s, 'dropbox_sync_cycle_start_lag_seconds_count');
        assert.ok(lagCount >= 1, 'a timer cycle was measured');
        const lagSum = value(s, 'dropbox_sync_cycle_start_lag_seconds_sum');
        assert.ok(lagSum >= 0 && lagSum / lagCount < 30, `lag ${lagSum / lagCount} s`);
        assert.ok(value(s, 'process_cpu_user_seconds_total') > 0);
      },
      60_000,
      250,
    );
  });

  it('counts the downloads of file contents and the calls to the token endpoint too', async () => {
    const own = h.emulator.registerApp({ redirectUris: [] });
    const other = await createProjectAdmin(h);
    const refreshToken = h.emulator.grantOffline(own.appKey, account.accountId);
    const connected = await h.call('POST', `${dropboxBase(other)}/connections`, {
      key: other.key,
      body: { clientIdentification: account.email, refreshToken, appKey: own.appKey, appSecret: own.appSecret },
    });
    expectStatus(connected, 201);
    await eventually(async () => {
      const s = await scrape();
      const calls = (result: string, route: string) => value(s, 'dropbox_sync_dropbox_calls_total', { result, route });
      assert.ok(calls('ok', '/2/files/download') >= FILES.length, 'each accepted file downloaded');
      assert.ok(calls('ok', '/oauth2/token') >= 1, 'the refresh that checked the refresh token');
    }, 60_000);
  });

  it('has no secret, path, file name or id in any label', async () => {
    const samples = await scrape();
    const forbidden = [
      account.token,
      badToken,
      admin.key,
      h.rootKey,
      account.email,
      mappingId,
      admin.projectId,
      'Metrics Site',
      ...FILES,
      REJECTED,
    ];
    for (const sample of samples) {
      for (const [label, text] of Object.entries(sample.labels)) {
        // Routes, outcomes, states, versions: short words, never free text.
        assert.match(text, /^[\w.+/-]{0,64}$/u, `${sample.name}{${label}="${text}"}`);
        for (const secret of forbidden)
          assert.ok(!text.includes(secret), `${sample.name}{${label}} holds "${secret}"`);
      }
    }
    const routes = samples
      .filter((s) => s.name === 'dropbox_sync_dropbox_calls_total')
      .map((s) => s.labels.route);
    for (const route of routes) assert.match(route ?? '', /^\/(2|oauth2)\/[a-z_/]+$|^other$/u);
  });

  it('counts a call that never reached Dropbox as "network"', async () => {
    const url = 'http://127.0.0.1:1/2/files/list_folder';
    await assert.rejects(countDropboxCall(url, fetch(url, { method: 'POST' })));
    const s = await scrape();
    assert.equal(
      value(s, 'dropbox_sync_dropbox_calls_total', { route: '/2/files/list_folder', result: 'network' }),
      1,
    );
  });
});
