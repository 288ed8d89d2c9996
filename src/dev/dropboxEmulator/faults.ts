import { DropboxApiError, serverError, tooManyRequests } from './errors';
import type { Random } from './prng';

/**
 * Injected trouble for the /2/ routes: random 5xx and 429 answers at set rates, scripted
 * answers for the next calls, added latency; and Retry-After enforcement: after a 429 every call
 * that shares its rate limit (the same user and app, whichever token) must wait, and a call that
 * comes early is recorded as a violation and refused again.
 */
export interface FaultSettings {
  /** Share of calls answered with a 5xx (0..1). */
  serverErrorRate: number;
  /** Which 5xx statuses to answer with; one is drawn per fault. */
  serverErrorStatuses: number[];
  /** Share of calls answered 429 (0..1). */
  rateLimitRate: number;
  /** The Retry-After (seconds) sent with injected 429s. */
  retryAfterSeconds: number;
  /** Added to every /2/ call before it is answered. */
  latencyMs: number;
  /** Timers may fire a hair early; calls this close to the end of the wait are not violations. */
  retryAfterToleranceMs: number;
}

/** One scripted answer for an upcoming call (optionally only for one route, e.g. "files/list_folder"). */
export interface ScriptedFault {
  status: number;
  retryAfterSeconds?: number;
  route?: string;
}

export interface Violation {
  /** The token the early call was made with (maybe not the one that got the 429). */
  token: string;
  route: string;
  at: string;
  retryAllowedAt: string;
  earlyByMs: number;
}

export const DEFAULT_FAULTS: FaultSettings = {
  serverErrorRate: 0,
  serverErrorStatuses: [500, 503],
  rateLimitRate: 0,
  retryAfterSeconds: 1,
  latencyMs: 0,
  retryAfterToleranceMs: 5,
};

export interface FaultDeps {
  random: Random;
  now(): number;
}

export class FaultInjector {
  private current: FaultSettings = { ...DEFAULT_FAULTS };
  private scripted: ScriptedFault[] = [];
  private readonly waitUntil = new Map<string, number>();
  private readonly seen: Violation[] = [];

  constructor(private readonly deps: FaultDeps) {}

  settings(): FaultSettings {
    return { ...this.current, serverErrorStatuses: [...this.current.serverErrorStatuses] };
  }

  configure(changes: Partial<FaultSettings>): FaultSettings {
    const next = { ...this.current, ...changes };
    for (const key of ['serverErrorRate', 'rateLimitRate'] as const) {
      if (!(next[key] >= 0 && next[key] <= 1)) throw new Error(`${key} must be between 0 and 1`);
    }
    if (!Number.isInteger(next.retryAfterSeconds) || next.retryAfterSeconds < 0) {
      throw new Error('retryAfterSeconds must be a whole number of seconds (Retry-After is in seconds)');
    }
    if (!(next.latencyMs >= 0)) throw new Error('latencyMs must not be negative');
    if (next.serverErrorStatuses.length === 0 || next.serverErrorStatuses.some((s) => s < 500 || s > 599)) {
      throw new Error('serverErrorStatuses must be 5xx statuses');
    }
    this.current = next;
    return this.settings();
  }

  /** Queues `count` copies of a scripted answer; they are used before any random fault. */
  failNext(fault: ScriptedFault, count = 1): void {
    if (fault.status < 400 || fault.status > 599)
      throw new Error('a scripted fault needs a 4xx or 5xx status');
    for (let i = 0; i < count; i++) this.scripted.push({ ...fault });
  }

  /** Forgets settings and scripted faults; violations and pending waits are kept. */
  clear(): void {
    this.current = { ...DEFAULT_FAULTS };
    this.scripted = [];
  }

  /** Forgets everything, including violations and pending waits. */
  reset(): void {
    this.clear();
    this.waitUntil.clear();
    this.seen.length = 0;
  }

  violations(): Violation[] {
    return this.seen.map((v) => ({ ...v }));
  }

  /**
   * The fault to answer this call with, if any. Draws one random number per call. `limitedAs`
   * names whose rate limit the call counts against (the token's user and app).
   */
  faultFor(route: string, token: string, limitedAs = token): DropboxApiError | undefined {
    const now = this.deps.now();
    const until = this.waitUntil.get(limitedAs);
    if (until !== undefined && now < until - this.current.retryAfterToleranceMs) {
      const at = new Date(now).toISOString();
      this.seen.push({
        token,
        route,
        at,
        retryAllowedAt: new Date(until).toISOString(),
        earlyByMs: until - now,
      });
      return tooManyRequests(Math.max(1, Math.ceil((until - now) / 1000)));
    }
    const draw = this.deps.random();
    const index = this.scripted.findIndex((f) => f.route === undefined || f.route === route);
    if (index >= 0) {
      const [fault] = this.scripted.splice(index, 1) as [ScriptedFault];
      return this.answer(fault.status, fault.retryAfterSeconds ?? this.current.retryAfterSeconds, limitedAs, now);
    }
    const { serverErrorRate, rateLimitRate, serverErrorStatuses } = this.current;
    if (draw < serverErrorRate) {
      const status = serverErrorStatuses[Math.floor(this.deps.random() * serverErrorStatuses.length)] ?? 500;
      return serverError(status);
    }
    if (draw < serverErrorRate + rateLimitRate)
      return this.answer(429, this.current.retryAfterSeconds, limitedAs, now);
    return undefined;
  }

  private answer(status: number, retryAfterSeconds: number, limitedAs: string, now: number): DropboxApiError {
    if (status === 429) {
      this.waitUntil.set(limitedAs, now + retryAfterSeconds * 1000);
      return tooManyRequests(retryAfterSeconds);
    }
    if (status >= 500) return serverError(status);
    return new DropboxApiError(status, `Emulated ${status}`);
  }
}
