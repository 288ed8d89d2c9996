import { createHash } from 'node:crypto';
import type { ActivityDeps } from './deps';
import { DEFAULT_MAX_FILE_BYTES } from '../domain/contentLimits';

/**
 * What decides which listed entries a worker records and copies: the special characters refused
 * and the largest file copied. A mapping listed under another policy is listed again from the
 * start, so names refused before are recorded once allowed (and the reverse), and files too large
 * before are copied once the limit allows.
 */
export function listingPolicyOf(deps: Pick<ActivityDeps, 'pathPolicy' | 'maxFileBytes'>): string {
  const maxFileBytes = deps.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  return createHash('sha256').update(JSON.stringify([deps.pathPolicy.characters, maxFileBytes])).digest('hex').slice(0, 16);
}
