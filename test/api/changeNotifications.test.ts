/**
 * The fan-out of change notifications as logic, over in-memory stand-ins that count how many
 * reads run at once (the webhook route over the real stack is in webhooks.test.ts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createChangeNotifications } from '../../src/api/changeNotifications';
import type { Connection, Mapping } from '../../src/domain/types';
import type { CredentialsProvider } from '../../src/dropbox/credentials/credentialsProvider';
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
});
