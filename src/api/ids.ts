/**
 * The shape of the ids src/db generates (src/db/ids.ts: a UUID's 32 hex digits). Ids in paths
 * and bodies must match it, so a malformed id is a 400 naming the field and never a query.
 */
export const ID_PATTERN = /^[0-9a-f]{32}$/u;
