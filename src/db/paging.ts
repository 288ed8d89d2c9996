import type { Collection, Document, Filter, WithId } from 'mongodb';

export interface PageRequest {
  limit: number;
  /** The `next` of the previous page: an `_id`. */
  after?: string | null;
}

export interface Page<T> {
  items: T[];
  /** The last `_id` of this page when more follow, else null. */
  next: string | null;
}

/** Keyset paging on `_id`: stable under concurrent inserts, no skip cost. */
export async function pageById<T extends Document & { _id: string }>(
  collection: Collection<T>,
  filter: Filter<T>,
  { limit, after }: PageRequest,
): Promise<Page<WithId<T>>> {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError('limit must be a positive integer');
  const query = (after ? { $and: [filter, { _id: { $gt: after } }] } : filter) as Filter<T>;
  // One more than asked tells whether another page follows without a count.
  const found = await collection
    .find(query)
    .sort({ _id: 1 })
    .limit(limit + 1)
    .toArray();
  const items = found.slice(0, limit);
  const next = found.length > limit ? (items[items.length - 1]?._id ?? null) : null;
  return { items, next };
}

/** Where a newest-first page ended: the last record's time and id, opaque to callers. */
export function newestCursor(time: Date, id: string): string {
  return Buffer.from(JSON.stringify([time.getTime(), id])).toString('base64url');
}

/** The cursor's time and id, or undefined when it is not one that newestCursor made. */
export function readNewestCursor(cursor: string): { time: Date; id: string } | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && Number.isSafeInteger(value[0]) && typeof value[1] === 'string') {
      return { time: new Date(value[0] as number), id: value[1] };
    }
  } catch {
    // Not JSON: not a cursor of ours.
  }
  return undefined;
}
