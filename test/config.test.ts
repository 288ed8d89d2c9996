import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, parseDuration, readApiConfig, readWorkerConfig } from '../src/config';
import { workflowCacheOption } from '../src/worker';

const KEY = 'a'.repeat(64);
const valid = { MONGODB_URI: 'mongodb://127.0.0.1:27017/x', TOKEN_ENCRYPTION_KEY: KEY };

describe('configuration', () => {
  it('fills the contract defaults: task queue, five-minute poll, Dropbox\'s own API', () => {
    const config = readWorkerConfig(valid);
    assert.equal(config.taskQueue, 'dropbox-sync');
    assert.equal(config.pollIntervalMs, 5 * 60_000);
    assert.equal(config.dropbox.apiUrl, 'https://api.dropboxapi.com');
    assert.equal(config.temporal.namespace, 'default');
  });

  it('names a missing variable', () => {
    assert.throws(() => readWorkerConfig({ TOKEN_ENCRYPTION_KEY: KEY }), (err: Error) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /MONGODB_URI is missing/u);
      return true;
    });
  });

  it('names a malformed variable without echoing its value', () => {
    const secret = 'not-a-key-but-secret';
    assert.throws(() => readWorkerConfig({ ...valid, TOKEN_ENCRYPTION_KEY: secret }), (err: Error) => {
      assert.match(err.message, /TOKEN_ENCRYPTION_KEY must be 32 bytes/u);
      assert.ok(!err.message.includes(secret));
      return true;
    });
    assert.throws(() => readWorkerConfig({ ...valid, POLL_INTERVAL: 'soon' }), (err: Error) => {
      assert.match(err.message, /POLL_INTERVAL is not a duration/u);
      assert.ok(!err.message.includes('soon'));
      return true;
    });
    // Seconds written as a bare number are milliseconds: too short an interval is refused, not run.
    assert.throws(() => readWorkerConfig({ ...valid, POLL_INTERVAL: '300' }), /POLL_INTERVAL must be at least 1000 ms/u);
    assert.equal(readWorkerConfig({ ...valid, POLL_INTERVAL: '300s' }).pollIntervalMs, 300_000);
    assert.equal(readWorkerConfig({ ...valid, POLL_INTERVAL: '1500' }).pollIntervalMs, 1_500);
  });

  it('reads the workflow cache size a worker is given, and leaves the SDK default otherwise', () => {
    assert.equal(readWorkerConfig(valid).workflowCacheSize, undefined);
    assert.equal(readWorkerConfig({ ...valid, WORKFLOW_CACHE_SIZE: '6000' }).workflowCacheSize, 6000);
    assert.equal(readWorkerConfig({ ...valid, WORKFLOW_CACHE_SIZE: '0' }).workflowCacheSize, 0, 'no cache: every task replays');
    assert.deepEqual(workflowCacheOption(readWorkerConfig({ ...valid, WORKFLOW_CACHE_SIZE: '0' })), { maxCachedWorkflows: 0 }, 'and the worker gets 0');
    assert.deepEqual(workflowCacheOption(readWorkerConfig(valid)), {}, "unset: the SDK's default");
    assert.throws(() => readWorkerConfig({ ...valid, WORKFLOW_CACHE_SIZE: '-1' }), /WORKFLOW_CACHE_SIZE/u);
    assert.throws(() => readWorkerConfig({ ...valid, WORKFLOW_CACHE_SIZE: 'lots' }), /WORKFLOW_CACHE_SIZE/u);
  });

  it('reads the worker deployment: dropbox-folder-sync by default, a build id only when WORKER_BUILD_ID is set', () => {
    assert.deepEqual(readWorkerConfig(valid).deployment, { name: 'dropbox-folder-sync', buildId: undefined });
    const set = readWorkerConfig({ ...valid, WORKER_DEPLOYMENT_NAME: 'sync-eu', WORKER_BUILD_ID: '0.2.0-abc123' });
    assert.deepEqual(set.deployment, { name: 'sync-eu', buildId: '0.2.0-abc123' });
    assert.throws(() => readWorkerConfig({ ...valid, WORKER_BUILD_ID: 'with space' }), /WORKER_BUILD_ID/u);
  });

  it('reads the contents limits: 4 downloads at once and 2 GiB files by default', () => {
    assert.deepEqual(readWorkerConfig(valid).contents, { concurrency: 4, maxFileBytes: 2 * 1024 ** 3 });
    assert.deepEqual(readWorkerConfig({ ...valid, CONTENT_CONCURRENCY: '8', MAX_FILE_BYTES: '1048576' }).contents, {
      concurrency: 8,
      maxFileBytes: 1_048_576,
    });
    assert.throws(() => readWorkerConfig({ ...valid, CONTENT_CONCURRENCY: '0' }), /CONTENT_CONCURRENCY/u);
  });

  it('reads where the worker serves its metrics, host:port or nothing', () => {
    assert.equal(readWorkerConfig(valid).metricsAddress, undefined);
    assert.equal(readWorkerConfig({ ...valid, METRICS_ADDRESS: '0.0.0.0:9464' }).metricsAddress, '0.0.0.0:9464');
    assert.throws(() => readWorkerConfig({ ...valid, METRICS_ADDRESS: '9464' }), /METRICS_ADDRESS must be host:port/u);
    assert.throws(() => readWorkerConfig({ ...valid, METRICS_ADDRESS: '0.0.0.0:99999' }), /METRICS_ADDRESS must name a port up to 65535/u);
    assert.throws(() => readWorkerConfig({ ...valid, TEMPORAL_ADDRESS: 'temporal:72330' }), /TEMPORAL_ADDRESS must name a port/u);
  });

  it('reads an empty variable as an unset one: its default, or missing, never 0', () => {
    const api = { ...valid, ROOT_API_KEY: 'r'.repeat(32) };
    const blank = readApiConfig({ ...api, MAX_FILE_BYTES: '', PORT: ' ', WORKFLOW_CACHE_SIZE: '', WORKER_DEPLOYMENT_NAME: '' });
    assert.equal(blank.contents.maxFileBytes, 2 * 1024 ** 3);
    assert.equal(blank.port, 3000);
    assert.equal(blank.publicUrl, 'http://127.0.0.1:3000');
    assert.equal(blank.workflowCacheSize, undefined);
    assert.equal(blank.deployment.name, 'dropbox-folder-sync');
    assert.throws(() => readApiConfig({ ...api, ROOT_API_KEY: '' }), /ROOT_API_KEY is missing/u);
  });

  it('takes only http(s) URLs with a host for Dropbox, the public address and the Web UI', () => {
    const api = { ...valid, ROOT_API_KEY: 'r'.repeat(32) };
    assert.equal(readWorkerConfig({ ...valid, DROPBOX_API_URL: 'http://127.0.0.1:8787' }).dropbox.apiUrl, 'http://127.0.0.1:8787');
    for (const bad of ['localhost:8787', 'ftp://files.example.com', 'mailto:admin@example.com']) {
      assert.throws(() => readWorkerConfig({ ...valid, DROPBOX_API_URL: bad }), /DROPBOX_API_URL must be an http:\/\/ or https:\/\/ URL/u, bad);
      assert.throws(() => readApiConfig({ ...api, PUBLIC_URL: bad }), /PUBLIC_URL must be an http/u, bad);
    }
  });

  it('reads how many cycles a run holds, for the workflows the API starts', () => {
    const api = { ...valid, ROOT_API_KEY: 'r'.repeat(32) };
    assert.equal(readApiConfig(api).cyclesPerRun, undefined);
    assert.equal(readApiConfig({ ...api, CYCLES_PER_RUN: '4' }).cyclesPerRun, 4);
    assert.throws(() => readApiConfig({ ...api, CYCLES_PER_RUN: '0' }), /CYCLES_PER_RUN/u);
    assert.throws(() => readApiConfig({ ...api, CYCLES_PER_RUN: '2.5' }), /CYCLES_PER_RUN/u);
    assert.throws(() => readApiConfig({ ...api, CYCLES_PER_RUN: 'hourly' }), /CYCLES_PER_RUN/u);
  });

  it('requires ROOT_API_KEY for the API only', () => {
    assert.throws(() => readApiConfig(valid), /ROOT_API_KEY is missing/u);
    assert.equal(readApiConfig({ ...valid, ROOT_API_KEY: 'r'.repeat(32), PORT: '8080' }).port, 8080);
  });

  it('reads durations as people write them', () => {
    assert.equal(parseDuration('30s'), 30_000);
    assert.equal(parseDuration('5m'), 300_000);
    assert.equal(parseDuration('250ms'), 250);
    assert.equal(parseDuration('1500'), 1500);
    assert.equal(parseDuration('0s'), undefined);
    assert.equal(parseDuration('-1m'), undefined);
  });
});
