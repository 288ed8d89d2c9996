import { randomUUID } from 'node:crypto';

/** Ids are strings we make, not ObjectIds: they read the same in URLs, logs and workflow ids. */
export function newId(): string {
  return randomUUID().replace(/-/gu, '');
}
