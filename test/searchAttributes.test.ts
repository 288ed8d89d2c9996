/**
 * The start-up check of the namespace's search attributes, on the dev server: its own namespace
 * has them (the launcher and the test script register them), a namespace made bare does not.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { msToTs } from '@temporalio/common/lib/time';
import { missingSearchAttributes } from '../src/searchAttributes';
import { eventually } from './support/eventually';
import { connectDevServer, type DevServerClient } from './support/servers';

describe('missingSearchAttributes', () => {
  let dev: DevServerClient;
  before(async () => {
    dev = await connectDevServer();
  });
  after(() => dev?.close());

  it("names none for a namespace that has them, and all four for one that has none", async () => {
    assert.deepEqual(await missingSearchAttributes(dev.connection.operatorService, dev.namespace), []);
    const bare = `bare-${randomBytes(4).toString('hex')}`;
    await dev.connection.workflowService.registerNamespace({ namespace: bare, workflowExecutionRetentionPeriod: msToTs('1 day') });
    await eventually(async () =>
      assert.deepEqual(await missingSearchAttributes(dev.connection.operatorService, bare), ['MappingId', 'ProjectId', 'DropboxPath', 'SyncState']),
    );
  });
});
