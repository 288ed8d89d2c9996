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

  it('drops lines below its level', () => {
    const lines: string[] = [];
    const log = createLogger({ write: (l) => lines.push(l), level: 'warn' });
    log.info('quiet');
    log.error('loud');
    assert.equal(lines.length, 1);
  });
});
