/**
 * FerretDB 1.24 (SQLite) never answers an update command in which 100 or more statements match
 * a document, and the stuck command holds its database; writes go in batches well below that.
 */
export const MAX_UPDATES_PER_COMMAND = 50;

export function inBatches<T>(items: readonly T[], size: number = MAX_UPDATES_PER_COMMAND): T[][] {
  const batches: T[][] = [];
  for (let i = 0; i < items.length; i += size) batches.push(items.slice(i, i + size));
  return batches;
}
