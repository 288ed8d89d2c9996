import { createHash, createHmac, randomBytes } from 'node:crypto';

/**
 * Dropbox's webhooks, as documented: an app registers a webhook URI, which Dropbox verifies
 * with `GET ?challenge=X` (the answer's body must be X, within 10 s); then every change to the
 * files of an account the app serves is POSTed there as `{"list_folder": {"accounts": [...]},
 * "delta": {"users": [...]}}`, signed with `X-Dropbox-Signature` (hex HMAC-SHA256 of the body
 * under the app secret). Changes are batched into one notification; a receiver that fails or
 * takes more than 10 s gets it again with exponential backoff, a bounded number of times.
 *
 * The app registry here holds only what webhooks need (key, secret, URIs). Every registered app
 * hears of every account's changes: the emulator does not tie tokens to apps.
 */
export interface WebhookRegistration {
  appKey: string;
  appSecret: string;
  /** Where notifications go; verified by the challenge before it is kept. */
  uri: string;
}

export interface WebhookSettings {
  /** Changes within this window go out as one notification. */
  batchMs: number;
  /** A receiver slower than this has failed (Dropbox allows 10 s). */
  timeoutMs: number;
  /** The first retry waits this long, each further one twice as long. */
  retryBaseMs: number;
  /** Delivery attempts per notification and URI, the first included; then it is dropped. */
  maxAttempts: number;
}

export interface WebhookCounts {
  /** Notifications made (one per batch, app and URI). */
  notifications: number;
  /** POSTs sent, retries included. */
  attempts: number;
  /** Notifications a receiver answered 2xx to in time. */
  delivered: number;
  /** Attempts that got an error status, no answer in time, or no connection. */
  failedAttempts: number;
  /** Notifications dropped after the last attempt failed. */
  abandoned: number;
}

export const DEFAULT_WEBHOOK_SETTINGS: WebhookSettings = {
  batchMs: 100,
  timeoutMs: 10_000,
  retryBaseMs: 1_000,
  maxAttempts: 6,
};

interface WebhookApp {
  secret: string;
  uris: Set<string>;
}

export class WebhookNotifier {
  private readonly apps = new Map<string, WebhookApp>();
  private changedAccounts = new Set<string>();
  private batchTimer: NodeJS.Timeout | undefined;
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  private readonly inFlight = new Set<AbortController>();
  private current: WebhookSettings = { ...DEFAULT_WEBHOOK_SETTINGS };
  private tally: WebhookCounts = emptyCounts();

  /** Performs the challenge and keeps the URI only when it is echoed; throws with the reason otherwise. */
  async register({ appKey, appSecret, uri }: WebhookRegistration): Promise<void> {
    if (!appKey || !appSecret) throw new Error('an app needs "appKey" and "appSecret"');
    const existing = this.apps.get(appKey);
    if (existing && existing.secret !== appSecret) throw new Error(`app "${appKey}" has another secret`);
    const target = new URL(uri);
    const challenge = randomBytes(16).toString('hex');
    target.searchParams.set('challenge', challenge);
    let answer: Response;
    try {
      answer = await fetch(target, { signal: AbortSignal.timeout(this.current.timeoutMs) });
    } catch (err) {
      throw new Error(`webhook URI ${uri} did not answer the challenge: ${(err as Error).message}`);
    }
    const body = await answer.text();
    if (!answer.ok || body !== challenge) {
      throw new Error(`webhook URI ${uri} did not echo the challenge (status ${answer.status})`);
    }
    const app = existing ?? { secret: appSecret, uris: new Set<string>() };
    app.uris.add(uri);
    this.apps.set(appKey, app);
  }

  registrations(): { appKey: string; uris: string[] }[] {
    return [...this.apps].map(([appKey, app]) => ({ appKey, uris: [...app.uris] }));
  }

  /** Called on every change to an account's files; the batch goes out `batchMs` after its first change. */
  accountChanged(accountId: string): void {
    if (this.apps.size === 0) return;
    this.changedAccounts.add(accountId);
    this.batchTimer ??= setTimeout(() => this.flush(), this.current.batchMs);
  }

  configure(changes: Partial<WebhookSettings>): WebhookSettings {
    this.current = { ...this.current, ...changes };
    return { ...this.current };
  }

  counts(): WebhookCounts {
    return { ...this.tally };
  }

  /** Forgets apps, pending changes, retries and counts; notifications on their way are cut off. */
  reset(): void {
    this.stop();
    this.apps.clear();
    this.tally = emptyCounts();
    this.current = { ...DEFAULT_WEBHOOK_SETTINGS };
  }

  /** Sends nothing more: for the emulator's close(). */
  stop(): void {
    clearTimeout(this.batchTimer);
    this.batchTimer = undefined;
    this.changedAccounts.clear();
    for (const timer of this.retryTimers) clearTimeout(timer);
    this.retryTimers.clear();
    for (const controller of this.inFlight) controller.abort();
    this.inFlight.clear();
  }

  private flush(): void {
    this.batchTimer = undefined;
    const accounts = [...this.changedAccounts];
    this.changedAccounts = new Set();
    if (accounts.length === 0) return;
    const body = JSON.stringify({
      list_folder: { accounts },
      delta: { users: accounts.map(userIdOf) },
    });
    for (const app of this.apps.values()) {
      const signature = createHmac('sha256', app.secret).update(body).digest('hex');
      for (const uri of app.uris) {
        this.tally.notifications += 1;
        this.attempt(uri, body, signature, 1);
      }
    }
  }

  private attempt(uri: string, body: string, signature: string, attempt: number): void {
    this.tally.attempts += 1;
    const controller = new AbortController();
    this.inFlight.add(controller);
    const timeout = setTimeout(() => controller.abort(), this.current.timeoutMs);
    const delivered = fetch(uri, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Dropbox-Signature': signature },
      body,
      signal: controller.signal,
    }).then(
      async (answer) => {
        await answer.arrayBuffer().catch(() => undefined);
        return answer.ok;
      },
      () => false,
    );
    void delivered.then((ok) => {
      clearTimeout(timeout);
      // Cut off by a reset (or close): it counts nowhere, so a reset's counts start at zero.
      if (!this.inFlight.delete(controller)) return;
      if (ok) {
        this.tally.delivered += 1;
        return;
      }
      this.tally.failedAttempts += 1;
      if (attempt >= this.current.maxAttempts) {
        this.tally.abandoned += 1;
        return;
      }
      const timer = setTimeout(() => {
        this.retryTimers.delete(timer);
        this.attempt(uri, body, signature, attempt + 1);
      }, this.current.retryBaseMs * 2 ** (attempt - 1));
      this.retryTimers.add(timer);
    });
  }
}

function emptyCounts(): WebhookCounts {
  return { notifications: 0, attempts: 0, delivered: 0, failedAttempts: 0, abandoned: 0 };
}

/** Dropbox's legacy numeric user id (`delta.users`), stable per account. */
function userIdOf(accountId: string): number {
  return createHash('sha256').update(accountId).digest().readUInt32BE(0) % 1_000_000_000;
}
