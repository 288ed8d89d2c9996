/** Counts of /2/ calls by route, token and answer status, for tests and benchmarks to assert on. */
export interface CallCounts {
  total: number;
  byRoute: Record<string, number>;
  byToken: Record<string, number>;
  byStatus: Record<string, number>;
  /** route -> token -> count */
  byTokenAndRoute: Record<string, Record<string, number>>;
}

export class CallCounter {
  private counts = empty();

  recordCall(route: string, token: string): void {
    this.counts.total += 1;
    bump(this.counts.byRoute, route);
    bump(this.counts.byToken, token);
    bump((this.counts.byTokenAndRoute[route] ??= {}), token);
  }

  recordStatus(status: number): void {
    bump(this.counts.byStatus, String(status));
  }

  snapshot(): CallCounts {
    return structuredClone(this.counts);
  }

  reset(): void {
    this.counts = empty();
  }
}

function empty(): CallCounts {
  return { total: 0, byRoute: {}, byToken: {}, byStatus: {}, byTokenAndRoute: {} };
}

function bump(record: Record<string, number>, key: string): void {
  record[key] = (record[key] ?? 0) + 1;
}
