import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { CONTENT_LINK_TTL_MS, createContentLinks } from '../../src/security/contentLinks';

const target = { projectId: 'p1', mappingId: 'm1', fileId: 'id:abc' };

describe('content links', () => {
  it('checks a link it made until it expires, and names the file it was made for', () => {
    const links = createContentLinks(randomBytes(32));
    const now = new Date('2026-12-05T12:00:00Z');
    const { token, expiresAt } = links.create(target, now);
    assert.equal(expiresAt.getTime() - now.getTime(), CONTENT_LINK_TTL_MS);
    assert.deepEqual(links.check(token, now), { ok: true, target });
    assert.deepEqual(links.check(token, new Date(expiresAt.getTime() - 1)), { ok: true, target });
    assert.deepEqual(links.check(token, expiresAt), { ok: false, problem: 'expired' });
  });

  it('refuses a link made under another key, altered, or not a link at all', () => {
    const key = randomBytes(32);
    const { token } = createContentLinks(key).create(target);
    assert.deepEqual(createContentLinks(randomBytes(32)).check(token), { ok: false, problem: 'invalid' });
    const links = createContentLinks(key);
    const [payload = '', signature = ''] = token.split('.');
    const later = Buffer.from(JSON.stringify(['p1', 'm1', 'id:abc', 9_999_999_999])).toString('base64url');
    for (const bad of [`${later}.${signature}`, `${payload}.`, payload, `${token}.x`, '', '..', 'not base64!.@@']) {
      assert.deepEqual(links.check(bad), { ok: false, problem: 'invalid' }, bad);
    }
  });
});
