import { randomBytes } from 'node:crypto';

/**
 * Reads a variable that `npm test` (scripts/test.ts) sets after starting or installing the
 * servers; a test run some other way gets told how to provide it instead of a vague failure.
 */
export function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run through \`npm test\` or set ${name}`);
  return value;
}

/**
 * A database name no other test (or earlier run) uses, so tests share one FerretDB without
 * seeing each other's data. Letters, digits and "_" only, well under the 63-character limit.
 */
export function uniqueDbName(prefix: string): string {
  const clean = prefix
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, '_')
    .slice(0, 30);
  return `${clean}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
}
