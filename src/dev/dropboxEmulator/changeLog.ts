/**
 * An ordered log of the latest change per key, readable from any sequence number.
 *
 * Every change to a key appends a record with a new sequence number and supersedes the key's
 * earlier record, so reading "everything after seq S" yields each changed key once, in the
 * order of its latest change. That one structure serves both a folder's first listing (read
 * from 0, skipping tombstones) and the changes since a cursor, and it keeps paging consistent:
 * an entry changed while a listing is being paged moves past the listing's snapshot and is
 * reported once, as a change. Reads cost O(page + superseded records skipped), never O(folder).
 */
export interface LogRecord<V> {
  seq: number;
  key: string;
  value: V;
}

export class ChangeLog<V> {
  private order: LogRecord<V>[] = [];
  private readonly latest = new Map<string, LogRecord<V>>();

  record(key: string, value: V, seq: number): void {
    const last = this.order[this.order.length - 1];
    if (last && seq <= last.seq)
      throw new Error(`change log sequence went backwards (${seq} <= ${last.seq})`);
    const rec = { seq, key, value };
    this.order.push(rec);
    this.latest.set(key, rec);
    this.compactIfSparse();
  }

  get(key: string): LogRecord<V> | undefined {
    return this.latest.get(key);
  }

  /** Each key's latest record, in no particular order. */
  latestRecords(): IterableIterator<LogRecord<V>> {
    return this.latest.values();
  }

  /** Each key's latest record with `seq > afterSeq`, in sequence order. */
  *since(afterSeq: number): Generator<LogRecord<V>> {
    // Compaction may replace `order` while a generator is suspended; hold the array we started on.
    const order = this.order;
    for (let i = this.firstAfter(order, afterSeq); i < order.length; i++) {
      const rec = order[i] as LogRecord<V>;
      if (this.latest.get(rec.key) === rec) yield rec;
    }
  }

  private firstAfter(order: LogRecord<V>[], seq: number): number {
    let lo = 0;
    let hi = order.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((order[mid] as LogRecord<V>).seq <= seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Superseded records only cost skipping; drop them once they outnumber the live ones. */
  private compactIfSparse(): void {
    if (this.order.length < 1024 || this.order.length < 2 * this.latest.size) return;
    this.order = this.order.filter((rec) => this.latest.get(rec.key) === rec);
  }
}
