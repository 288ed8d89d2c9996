import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const PREFIX = 'dfs_';

/** A new API key: shown to its owner once, stored only as its hash. */
export function generateApiKey(): string {
  return PREFIX + randomBytes(32).toString('base64url');
}

/** sha256, hex. A fast hash is enough: the key is 256 random bits, not a password. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/**
 * Compares two secrets (e.g. a bearer token with ROOT_API_KEY) in time that depends on neither:
 * hashing first gives equal-length inputs to `timingSafeEqual`.
 */
export function secretsEqual(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

/** Two hex hashes, compared in constant time; false for malformed input. */
export function hashesEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === 32 && y.length === 32 && timingSafeEqual(x, y);
}
