import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger } from '../src/log';

describe('structured logs', () => {
  it('writes one JSON object a line with level, message and fields', () => {
    const lines: string[] = [];
    createLogger({ write: (l) => lines.push(l), fields: { service: 'api' } }).info('started', { port: 3000 });
    const entry = JSON.parse(lines[0]!);
    assert.equal(entry.level, 'info');
    assert.equal(entry.msg, 'started');
    assert.equal(entry.service, 'api');
    assert.equal(entry.port, 3000);
  });

  it('redacts fields that name secrets, however deep', () => {
    const lines: string[] = [];
    const token = 'sl.recognisable-token';
    createLogger({ write: (l) => lines.push(l) }).warn('body', {
      body: { accessToken: token, nested: { Authorization: `Bearer ${token}` } },
      apiKey: 'dfs_key',
    });
    assert.ok(!lines[0]!.includes(token));
    assert.ok(!lines[0]!.includes('dfs_key'));
    assert.match(lines[0]!, /\[redacted\]/u);
  });

  it('cuts what lies deeper than it redacts, and redacts a PKCE verifier, a signature and a browser key', () => {
    const lines: string[] = [];
    const secret = 'sl.deep-secret';
    const error = Object.assign(new Error('refused'), { headers: { authorization: 'Bearer deep-error' } });
    createLogger({ write: (l) => lines.push(l) }).warn('deep', {
      a: { b: { c: { d: { e: { f: { g: { accessToken: secret, plain: secret }, error } } } } } },
      codeVerifier: 'pkce-verifier',
      signature: 'hmac-signature',
      browserKey: 'browser-key',
      mappingId: 'm-1',
    });
    for (const leaked of [secret, 'deep-error', 'pkce-verifier', 'hmac-signature', 'browser-key'])
      assert.ok(!lines[0]!.includes(leaked), `${leaked} in ${lines[0]}`);
    assert.match(lines[0]!, /\[too deep\]/u);
    assert.equal(JSON.parse(lines[0]!).mappingId, 'm-1', 'other fields are kept');
  });

  it('drops lines below its level', () => {
    const lines: string[] = [];
    const log = createLogger({ write: (l) => lines.push(l), level: 'warn' });
    log.info('quiet');
    log.error('loud');
    assert.equal(lines.length, 1);
  });

  it('gives child loggers their fields, redacting those that name secrets', () => {
    const lines: string[] = [];
    const log = createLogger({ write: (l) => lines.push(l), fields: { service: 'worker' } });
    log
      .child({ mappingId: 'm-1', refreshToken: 'sl.child-secret' })
      .child({ workflowId: 'folder-sync-m-1' })
      .info('cycle');
    const entry = JSON.parse(lines[0]!);
    assert.equal(entry.service, 'worker');
    assert.equal(entry.mappingId, 'm-1');
    assert.equal(entry.workflowId, 'folder-sync-m-1');
    assert.equal(entry.refreshToken, '[redacted]');
    assert.ok(!lines[0]!.includes('sl.child-secret'));
  });

  it('writes an error as its name and message, without its stack or its own fields', () => {
    const lines: string[] = [];
    const err = Object.assign(new TypeError('Dropbox could not be reached'), {
      request: { url: 'https://api.dropboxapi.com/2/files/list_folder', body: 'sl.in-a-request-body' },
    });
    createLogger({ write: (l) => lines.push(l) }).error('request failed', { error: err, err });
    const entry = JSON.parse(lines[0]!);
    assert.deepEqual(entry.error, { name: 'TypeError', message: 'Dropbox could not be reached' });
    assert.deepEqual(entry.err, { name: 'TypeError', message: 'Dropbox could not be reached' });
    assert.ok(!lines[0]!.includes('sl.in-a-request-body'));
    assert.ok(!lines[0]!.includes('at '), 'no stack');
  });

  it('writes pretty lines, one per entry, with the same redaction', () => {
    const lines: string[] = [];
    const log = createLogger({ write: (l) => lines.push(l), pretty: true, fields: { service: 'api' } });
    log.info('api listening', { url: 'http://127.0.0.1:3000', body: { accessToken: 'sl.pretty-secret' } });
    log.debug('below the level');
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /INFO.*api: api listening/u);
    assert.match(lines[0]!, /http:\/\/127\.0\.0\.1:3000/u);
    assert.ok(!lines[0]!.includes('sl.pretty-secret'));
    assert.throws(() => JSON.parse(lines[0]!));
  });
});
