/**
 * The fan-out of change notifications as logic, over in-memory stand-ins that count how many
 * reads run at once (the webhook route over the real stack is in webhooks.test.ts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createChangeNotifications } from '../../src/api/changeNotifications';
import type { Connection, Mapping } from '../../src/domain/types';
import type { CredentialsProvider } from '../../src/dropbox/credentials/credentialsProvider';
import { DropboxRateLimitError } from '../../src/dropbox/errors';
import { silentLogger } from '../../src/log';

describe('change notifications', () => {
  it('reads the changes of one account connected in many projects a few at a time, and still tells every changed mapping', async () => {
    const connections = 40;
    const mappings = Array.from({ length: connections * 2 }, (_, i) => ({
      _id: `m${i}`,
      connectionId: `c${i % connections}`,
      dropboxPathLower: `/site ${i}`,
    })) as unknown as Mapping[];
    let reading = 0;
    let mostAtOnce = 0;
    const counted = async <T>(value: T): Promise<T> => {
      reading += 1;
      mostAtOnce = Math.max(mostAtOnce, reading);
      await new Promise((resolve) => setTimeout(resolve, 10));
      reading -= 1;
      return value;
    };
    const signalled: string[] = [];
    const notifications = createChangeNotifications({
      repos: {
        mappings: { listSyncOnChangeByAccount: () => counted(mappings) },
        connections: {
          getById: (id: string) => counted({ _id: id, changesCursor: 'cursor-1' } as unknown as Connection),
          setChangesCursor: async () => undefined,
        },
      },
      dropbox: {
        listAccountChanges: () =>
          counted({ pathsLower: mappings.map((m) => `${m.dropboxPathLower}/new.pdf`), cursor: 'cursor-2', complete: true }),
      },
      credentials: { forConnection: async () => ({ accessToken: 'token' }) } as unknown as CredentialsProvider,
      syncWorkflows: { signal: async (mapping: Mapping) => void signalled.push(mapping._id) },
      log: silentLogger,
    });
    const result = await notifications.accountsChanged(['dbid:one']);
    assert.equal(result.signalled, mappings.length);
    assert.deepEqual(signalled.sort(), mappings.map((m) => m._id).sort());
    assert.ok(mostAtOnce <= 8, `at most 8 reads at once, not ${mostAtOnce}`);
  });
  it('syncs nothing while Dropbox asks to slow down: it reads the changes again after the wait Dropbox names, then tells only the changed mappings', async () => {
    const mappings = [
      { _id: 'm-changed', connectionId: 'c1', dropboxPathLower: '/site a' },
      { _id: 'm-same', connectionId: 'c1', dropboxPathLower: '/site b' },
    ] as unknown as Mapping[];
    const run = async (rateLimitedLooks: number) => {
      const looks: number[] = [];
      const signalled: string[] = [];
      const notifications = createChangeNotifications({
        repos: {
          mappings: { listSyncOnChangeByAccount: async () => mappings },
          connections: {
            getById: async (id: string) => ({ _id: id, changesCursor: 'cursor-1' }) as unknown as Connection,
            setChangesCursor: async () => undefined,
          },
        },
        dropbox: {
          listAccountChanges: async () => {
            looks.push(Date.now());
            if (looks.length <= rateLimitedLooks) throw new DropboxRateLimitError(40);
            return { pathsLower: ['/site a/new.pdf'], cursor: 'cursor-2', complete: true };
          },
        },
        credentials: { forConnection: async () => ({ accessToken: 'token' }) } as unknown as CredentialsProvider,
        syncWorkflows: { signal: async (mapping: Mapping) => void signalled.push(mapping._id) },
        log: silentLogger,
      });
      return { result: await notifications.accountsChanged(['dbid:one']), looks, signalled };
    };

    const once = await run(1);
    assert.deepEqual(once.signalled, ['m-changed'], 'not every mapping of the account');
    assert.equal(once.looks.length, 2);
    assert.ok(once.looks[1]! - once.looks[0]! >= 35, 'the second look waited for Retry-After');

    const always = await run(Infinity);
    assert.deepEqual(always.signalled, []);
    assert.equal(always.looks.length, 3);
    assert.deepEqual([always.result.deferred, always.result.signalled], [2, 0]);
  });
});
