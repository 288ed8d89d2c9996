import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  TokenDecryptionError,
  TokenKeyMismatchError,
  createTokenCipher,
} from '../../src/security/tokenCipher';

const TOKEN = 'sl.u.AFakeDropboxAccessToken-0123456789';

describe('token cipher', () => {
  const key = randomBytes(32);
  const cipher = createTokenCipher(key);

  it('seals a token and opens it again', () => {
    const sealed = cipher.seal(TOKEN);
    assert.equal(sealed.v, 1);
    assert.equal(sealed.keyId, cipher.keyId);
    assert.equal(Buffer.from(sealed.iv, 'base64').length, 12);
    assert.equal(Buffer.from(sealed.tag, 'base64').length, 16);
    assert.ok(!JSON.stringify(sealed).includes(TOKEN));
    assert.equal(cipher.open(sealed), TOKEN);
  });

  it('uses a fresh iv for every seal', () => {
    const a = cipher.seal(TOKEN);
    const b = cipher.seal(TOKEN);
    assert.notEqual(a.iv, b.iv);
    assert.notEqual(a.ciphertext, b.ciphertext);
  });

  it('names its key by the first 16 hex digits of its sha256', () => {
    assert.equal(cipher.keyId, createHash('sha256').update(key).digest('hex').slice(0, 16));
  });

  it('a token sealed under another key is refused with the key id and what to do, never the token or key', () => {
    const other = createTokenCipher(randomBytes(32));
    const sealed = other.seal(TOKEN);
    assert.throws(
      () => cipher.open(sealed),
      (err: Error) => {
        assert.ok(err instanceof TokenKeyMismatchError);
        assert.match(err.message, /different TOKEN_ENCRYPTION_KEY \(key id [0-9a-f]{16}\)/u);
        assert.ok(err.message.includes(other.keyId));
        assert.match(err.message, /restore that key or ask the admin to enter the token again/u);
        assert.ok(!err.message.includes(TOKEN));
        assert.ok(
          !err.message.includes(key.toString('hex')) && !err.message.includes(key.toString('base64')),
        );
        return true;
      },
    );
  });

  it('a tampered ciphertext, tag or iv is refused as undecryptable', () => {
    const sealed = cipher.seal(TOKEN);
    const flip = (b64: string) => {
      const bytes = Buffer.from(b64, 'base64');
      bytes[0] = (bytes[0] ?? 0) ^ 1;
      return bytes.toString('base64');
    };
    for (const field of ['ciphertext', 'tag', 'iv'] as const) {
      assert.throws(
        () => cipher.open({ ...sealed, [field]: flip(sealed[field]) }),
        TokenDecryptionError,
        field,
      );
    }
    assert.throws(() => cipher.open({ ...sealed, tag: '' }), TokenDecryptionError);
  });

  it('a token sealed to one connection does not open for another', () => {
    const sealed = cipher.seal(TOKEN, { connectionId: 'c1' });
    assert.equal(cipher.open(sealed, { connectionId: 'c1' }), TOKEN);
    assert.throws(() => cipher.open(sealed, { connectionId: 'c2' }), TokenDecryptionError);
    assert.throws(() => cipher.open(sealed), TokenDecryptionError);
  });

  it('a PKCE verifier sealed to one OAuth round does not open for another, nor as a connection token', () => {
    const sealed = cipher.seal(TOKEN, { oauthRound: 'round-1' });
    assert.equal(cipher.open(sealed, { oauthRound: 'round-1' }), TOKEN);
    assert.throws(() => cipher.open(sealed, { oauthRound: 'round-2' }), TokenDecryptionError);
    assert.throws(() => cipher.open(sealed, { connectionId: 'round-1' }), TokenDecryptionError);
  });

  it('refuses a key that is not 32 bytes', () => {
    assert.throws(() => createTokenCipher(randomBytes(16)), RangeError);
  });

  it('does not depend on the caller keeping the key buffer unchanged', () => {
    const mutable = Buffer.from(key);
    const c = createTokenCipher(mutable);
    const sealed = c.seal(TOKEN);
    mutable.fill(0);
    assert.equal(c.open(sealed), TOKEN);
  });
});
