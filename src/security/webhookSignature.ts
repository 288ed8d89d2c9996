import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Whether `signature` (the `X-Dropbox-Signature` header) is the hex HMAC-SHA256 of the raw body
 * under the app secret. Compared in constant time; a header of the wrong shape is simply wrong.
 */
export function isDropboxSignature(secret: string, body: Buffer, signature: string | undefined): boolean {
  if (typeof signature !== 'string' || !/^[0-9a-f]{64}$/iu.test(signature)) return false;
  const expected = createHmac('sha256', secret).update(body).digest();
  return timingSafeEqual(expected, Buffer.from(signature, 'hex'));
}
