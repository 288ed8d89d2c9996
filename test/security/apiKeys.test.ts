import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generateApiKey, hashApiKey, hashesEqual, secretsEqual } from '../../src/security/apiKeys';

describe('API keys', () => {
  it('makes "dfs_" keys of 32 random bytes, different each time', () => {
    const a = generateApiKey();
    assert.match(a, /^dfs_[A-Za-z0-9_-]{43}$/u);
    assert.notEqual(a, generateApiKey());
  });

  it('hashes a key to 64 hex digits, the same every time', () => {
    const key = generateApiKey();
    assert.match(hashApiKey(key), /^[0-9a-f]{64}$/u);
    assert.equal(hashApiKey(key), hashApiKey(key));
  });

  it('compares secrets of any length without throwing', () => {
    assert.equal(secretsEqual('root-key-0123456789abcdef', 'root-key-0123456789abcdef'), true);
    assert.equal(secretsEqual('root-key-0123456789abcdef', 'root-key'), false);
    assert.equal(secretsEqual('', ''), true);
  });

  it('compares hashes, refusing malformed ones', () => {
    const h = hashApiKey('x');
    assert.equal(hashesEqual(h, h), true);
    assert.equal(hashesEqual(h, hashApiKey('y')), false);
    assert.equal(hashesEqual(h, 'zz'), false);
  });
});
