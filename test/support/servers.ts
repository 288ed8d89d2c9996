import { Client, Connection } from '@temporalio/client';
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { SEARCH_ATTRIBUTES } from '../../src/workflows/definitions';
import { requireEnv } from './testEnv';

/**
 * The options for each test on the time-skipping server: a limit far above the seconds such a
 * test takes, so that one meeting a hang of the server fails under its own name and the file
 * goes on, rather than the whole file being cancelled at the runner's limit.
 */
export const TIME_SKIPPING_TEST = { timeout: 120_000 };

/**
 * A time-skipping test environment over the test server `npm test` installed (no download at
 * test time), with the contract's search attributes registered: the test server rejects an
 * upsert of any attribute it does not know ("search attribute ProjectId is not defined"), and
 * it has no start-up flag for them. Tear it down with `await env.teardown()`.
 */
export async function createTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  const path = requireEnv('TEMPORAL_TEST_SERVER_PATH');
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path } },
  });
  try {
    const searchAttributes: Record<string, number> = {};
    for (const key of SEARCH_ATTRIBUTES) {
      const type = encodeSearchAttributeIndexedValueType(key.type);
      if (type === undefined) throw new Error(`search attribute ${key.name} has an unknown type ${key.type}`);
      searchAttributes[key.name] = type;
    }
    await env.connection.operatorService.addSearchAttributes({
      namespace: env.namespace ?? 'default',
      searchAttributes,
    });
  } catch (err) {
    await env.teardown();
    throw err;
  }
  return env;
}

export interface DevServerClient {
  connection: Connection;
  client: Client;
  namespace: string;
  /** Closes the connection; await it in the suite's `after`. */
  close(): Promise<void>;
}

/** A client for the dev server `npm test` started (or the one TEMPORAL_ADDRESS names). */
export async function connectDevServer(): Promise<DevServerClient> {
  const address = requireEnv('TEMPORAL_ADDRESS');
  const namespace = process.env.TEMPORAL_NAMESPACE || 'default';
  const connection = await Connection.connect({ address });
  const client = new Client({ connection, namespace });
  return { connection, client, namespace, close: () => connection.close() };
}
