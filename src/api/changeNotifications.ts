import type { MappingsRepository } from '../db/mappingsRepository';
import type { Logger } from '../log';
import { createSlots } from '../slots';
import type { SyncWorkflows } from './syncWorkflows';

/**
 * Signals in flight at once, across every notification the process handles: 10,000 mappings (or
 * a notification naming many accounts) must not open 10,000 requests to Temporal at once.
 */
const SIGNAL_CONCURRENCY = 32;

export interface ChangeNotificationDeps {
  repos: { mappings: Pick<MappingsRepository, 'listSyncOnChangeByAccount'> };
  syncWorkflows: Pick<SyncWorkflows, 'signal'>;
  log: Logger;
}

export interface FanOutResult {
  mappings: number;
  signalled: number;
  failed: number;
  /** Accounts whose fan-out was already running: it runs once more instead. */
  joined: number;
}

/**
 * Turns "these Dropbox accounts changed" into `syncNow` for each of their mappings, after the
 * webhook has been answered. Per account, a notification that arrives while the account's
 * fan-out runs does not start a second one beside it: it asks for one more after it (as the
 * workflow's `syncRequested` does for cycles), so a burst costs at most two fan-outs, not one each.
 * A fan-out lost with the process is caught by the mapping's timer within one poll interval.
 */
export function createChangeNotifications(deps: ChangeNotificationDeps) {
  const running = new Map<string, { again: boolean }>();
  const slots = createSlots(SIGNAL_CONCURRENCY);

  async function fanOut(accountId: string): Promise<FanOutResult> {
    const mappings = await deps.repos.mappings.listSyncOnChangeByAccount(accountId);
    const outcomes = await Promise.all(
      mappings.map((mapping) =>
        slots.run(() => deps.syncWorkflows.signal(mapping, 'syncNow')).then(
          () => true,
          (err: unknown) => {
            deps.log.warn('syncNow after a change notification failed', {
              mappingId: mapping._id,
              error: (err as Error).message,
            });
            return false;
          },
        ),
      ),
    );
    const signalled = outcomes.filter(Boolean).length;
    return { mappings: mappings.length, signalled, failed: mappings.length - signalled, joined: 0 };
  }

  async function accountChanged(accountId: string): Promise<FanOutResult> {
    const total: FanOutResult = { mappings: 0, signalled: 0, failed: 0, joined: 0 };
    const current = running.get(accountId);
    if (current) {
      current.again = true;
      return { ...total, joined: 1 };
    }
    const entry = { again: true };
    running.set(accountId, entry);
    try {
      while (entry.again) {
        entry.again = false;
        const result = await fanOut(accountId);
        total.mappings += result.mappings;
        total.signalled += result.signalled;
        total.failed += result.failed;
      }
    } finally {
      running.delete(accountId);
    }
    return total;
  }

  return {
    /** Resolves once every named account's mappings were signalled (or their fan-out was joined). */
    async accountsChanged(accountIds: readonly string[]): Promise<FanOutResult> {
      const results = await Promise.all(
        [...new Set(accountIds)].map((id) =>
          accountChanged(id).catch((err: unknown) => {
            deps.log.warn('mappings of a changed Dropbox account could not be read', {
              error: (err as Error).message,
            });
            return { mappings: 0, signalled: 0, failed: 1, joined: 0 };
          }),
        ),
      );
      return results.reduce(
        (sum, r) => ({
          mappings: sum.mappings + r.mappings,
          signalled: sum.signalled + r.signalled,
          failed: sum.failed + r.failed,
          joined: sum.joined + r.joined,
        }),
        { mappings: 0, signalled: 0, failed: 0, joined: 0 },
      );
    },
  };
}

export type ChangeNotifications = ReturnType<typeof createChangeNotifications>;
