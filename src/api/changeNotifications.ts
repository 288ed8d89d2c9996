import { setTimeout as sleep } from 'node:timers/promises';
import type { ConnectionsRepository } from '../db/connectionsRepository';
import type { MappingsRepository } from '../db/mappingsRepository';
import { changedFolders } from '../domain/changedFolders';
import type { Mapping } from '../domain/types';
import type { DropboxClient } from '../dropbox/client';
import type { CredentialsProvider } from '../dropbox/credentials/credentialsProvider';
import { DropboxCursorResetError, DropboxRateLimitError } from '../dropbox/errors';
import type { Logger } from '../log';
import { createSlots } from '../slots';
import { MappingWorkflowEndedError, type SyncWorkflows } from './syncWorkflows';

/**
 * Signals in flight at once, across every notification the process handles: 10,000 mappings (or
 * a notification naming many accounts) must not open 10,000 requests to Temporal at once.
 */
const SIGNAL_CONCURRENCY = 32;
/**
 * Reads (the database's, then Dropbox's changes with any token refresh) at once across every
 * notification: one account connected in many projects, or a notification naming a thousand
 * accounts, must not send Dropbox a burst it answers with 429 nor take the whole Mongo pool the
 * admin's requests share.
 */
const LOOK_CONCURRENCY = 8;
/** Pages of changes read per notification (2,000 entries each); past them every mapping syncs. */
const MAX_CHANGE_PAGES = 10;
/**
 * Looks at one account's changes per notification while Dropbox answers 429, each after the wait
 * it asked for (at most MAX_RATE_LIMIT_WAIT_MS); then its mappings' timers catch up.
 */
const MAX_RATE_LIMITED_LOOKS = 3;
const MAX_RATE_LIMIT_WAIT_MS = 60_000;

export interface ChangeNotificationDeps {
  repos: {
    mappings: Pick<MappingsRepository, 'listSyncOnChangeByAccount'>;
    connections: Pick<ConnectionsRepository, 'getById' | 'setChangesCursor'>;
  };
  dropbox: Pick<DropboxClient, 'listAccountChanges'>;
  credentials: CredentialsProvider;
  syncWorkflows: Pick<SyncWorkflows, 'signal'>;
  log: Logger;
}

export interface FanOutResult {
  mappings: number;
  signalled: number;
  failed: number;
  /** Mappings whose folders did not change: not signalled. */
  unchanged: number;
  /** Accounts whose fan-out was already running: it runs once more instead. */
  joined: number;
  /** Mappings not told because Dropbox kept asking to slow down: their timers catch up. */
  deferred: number;
}

/** What changed since a connection's changes cursor: which folders, unless that cannot be told. */
interface LookAtChanges {
  /** Undefined: every mapping of the connection syncs (no cursor yet, or the look failed). */
  isChanged?: (folderPathLower: string) => boolean;
  /** Where the next look starts, once the mappings were signalled. */
  cursor?: string;
  /** Where this look started (undefined: from none). */
  since?: string;
  /** Dropbox answered 429: wait this long before looking again, and sync nothing meanwhile. */
  rateLimitedForMs?: number;
}

const NO_RESULT: FanOutResult = { mappings: 0, signalled: 0, failed: 0, unchanged: 0, joined: 0, deferred: 0 };

function sum(results: FanOutResult[]): FanOutResult {
  return results.reduce(
    (total, r) => ({
      mappings: total.mappings + r.mappings,
      signalled: total.signalled + r.signalled,
      failed: total.failed + r.failed,
      unchanged: total.unchanged + r.unchanged,
      joined: total.joined + r.joined,
      deferred: total.deferred + r.deferred,
    }),
    NO_RESULT,
  );
}

/**
 * Turns "these Dropbox accounts changed" into `syncNow` for the mappings whose folders changed,
 * after the webhook has been answered. As Dropbox documents for webhooks, the receiver reads what
 * changed in the account from a cursor of its own (one `list_folder/continue` per connection), so
 * a notification costs one cycle per changed folder, not one per mapping of the account. Where
 * that cannot be told (the connection's first notification, a failed or reset look, a burst past
 * MAX_CHANGE_PAGES) every mapping of the connection syncs, as if every folder changed. Not so when
 * Dropbox asks to slow down (429): the look is made again after the wait it names, and nothing
 * syncs until it answers (after MAX_RATE_LIMITED_LOOKS, the mappings' timers catch up).
 * Per account, a notification that arrives while the account's fan-out runs does not start a
 * second one beside it: it asks for one more after it (as the workflow's `syncRequested` does for
 * cycles), so a burst costs at most two fan-outs, not one each. A fan-out lost with the process
 * is caught by the mapping's timer within one poll interval.
 */
export function createChangeNotifications(deps: ChangeNotificationDeps) {
  const running = new Map<string, { again: boolean }>();
  const slots = createSlots(SIGNAL_CONCURRENCY);
  const looks = createSlots(LOOK_CONCURRENCY);

  async function lookAtChanges(connectionId: string): Promise<LookAtChanges> {
    try {
      const connection = await deps.repos.connections.getById(connectionId);
      if (!connection) return {};
      const credentials = await deps.credentials.forConnection(connection);
      const since = connection.changesCursor;
      const changes = await deps.dropbox.listAccountChanges(credentials, {
        cursor: since,
        maxPages: MAX_CHANGE_PAGES,
      });
      return {
        ...(since !== undefined && changes.complete ? { isChanged: changedFolders(changes.pathsLower) } : {}),
        cursor: changes.cursor,
        ...(since !== undefined ? { since } : {}),
      };
    } catch (err) {
      // Every mapping's cycle would call Dropbox right after it asked to slow down.
      if (err instanceof DropboxRateLimitError) return { rateLimitedForMs: err.retryAfterMs };
      if (err instanceof DropboxCursorResetError) {
        await deps.repos.connections.setChangesCursor(connectionId, null).catch(() => undefined);
      }
      deps.log.warn('changes of a Dropbox account could not be read; every mapping of the connection syncs', {
        connectionId,
        error: (err as Error).message,
      });
      return {};
    }
  }

  async function connectionChanged(connectionId: string, mappings: Mapping[]): Promise<FanOutResult> {
    let look = await looks.run(() => lookAtChanges(connectionId));
    for (let tries = 1; look.rateLimitedForMs !== undefined; tries += 1) {
      if (tries === MAX_RATE_LIMITED_LOOKS) {
        deps.log.warn('Dropbox kept asking to slow down while its changes were read; the mappings sync on their timers', {
          connectionId,
        });
        return { ...NO_RESULT, mappings: mappings.length, deferred: mappings.length };
      }
      await sleep(Math.min(look.rateLimitedForMs, MAX_RATE_LIMIT_WAIT_MS));
      look = await looks.run(() => lookAtChanges(connectionId));
    }
    const changed = look.isChanged;
    const chosen = changed ? mappings.filter((m) => changed(m.dropboxPathLower)) : mappings;
    const outcomes = await Promise.all(
      chosen.map((mapping) =>
        slots
          .run(() => deps.syncWorkflows.signal(mapping, 'syncNow'))
          .then(
            () => true,
            (err: unknown) => {
              // Unmapped since it was read: nothing left to tell.
              if (err instanceof MappingWorkflowEndedError) return true;
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
    // Moved on only once every changed folder's mapping was told: a failed signal is retried by
    // the next notification's look from the same cursor (or by the mapping's timer).
    if (look.cursor !== undefined && signalled === chosen.length) {
      await deps.repos.connections.setChangesCursor(connectionId, look.cursor, { cursor: look.since }).catch((err: unknown) =>
        deps.log.warn('the changes cursor of a connection could not be saved', {
          connectionId,
          error: (err as Error).message,
        }),
      );
    }
    return {
      mappings: mappings.length,
      signalled,
      failed: chosen.length - signalled,
      unchanged: mappings.length - chosen.length,
      joined: 0,
      deferred: 0,
    };
  }

  async function fanOut(accountId: string, appKey: string | undefined): Promise<FanOutResult> {
    const mappings = await looks.run(() => deps.repos.mappings.listSyncOnChangeByAccount(accountId, appKey));
    const byConnection = new Map<string, Mapping[]>();
    for (const mapping of mappings) {
      const group = byConnection.get(mapping.connectionId);
      if (group) group.push(mapping);
      else byConnection.set(mapping.connectionId, [mapping]);
    }
    return sum(await Promise.all([...byConnection].map(([id, group]) => connectionChanged(id, group))));
  }

  async function accountChanged(accountId: string, appKey: string | undefined): Promise<FanOutResult> {
    let total = NO_RESULT;
    const key = appKey === undefined ? accountId : `${appKey}\u0000${accountId}`;
    const current = running.get(key);
    if (current) {
      current.again = true;
      return { ...total, joined: 1 };
    }
    const entry = { again: true };
    running.set(key, entry);
    try {
      while (entry.again) {
        entry.again = false;
        total = sum([total, await fanOut(accountId, appKey)]);
      }
    } finally {
      running.delete(key);
    }
    return total;
  }

  return {
    /**
     * Resolves once every named account's mappings were signalled (or their fan-out was joined).
     * `appKey`: only the connections made with that app (a notification of an admin's own app).
     */
    async accountsChanged(accountIds: readonly string[], appKey?: string): Promise<FanOutResult> {
      const results = await Promise.all(
        [...new Set(accountIds)].map((id) =>
          accountChanged(id, appKey).catch((err: unknown) => {
            deps.log.warn('mappings of a changed Dropbox account could not be read', {
              error: (err as Error).message,
            });
            return { ...NO_RESULT, failed: 1 };
          }),
        ),
      );
      return sum(results);
    },
  };
}

export type ChangeNotifications = ReturnType<typeof createChangeNotifications>;
