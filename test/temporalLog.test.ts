import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger } from '../src/log';
import { sdkLogger } from '../src/temporalLog';

describe("the Temporal SDK's log lines", () => {
  const linesOf = (write: (sdk: ReturnType<typeof sdkLogger>) => void) => {
    const lines: { level: string; msg: string }[] = [];
    write(
      sdkLogger(createLogger({ level: 'debug', write: (line) => lines.push(JSON.parse(line)) }), 'debug'),
    );
    return lines.map(({ level, msg }) => ({ level, msg }));
  };

  it('keep their level, but the activities-only worker having no workflows is not a warning', () => {
    const lines = linesOf((sdk) => {
      sdk.warn('Workflow task failed', { taskQueue: 'dropbox-sync' });
      sdk.warn('No workflows registered, not polling for workflow tasks', {
        taskQueue: 'dropbox-sync-contents',
      });
      sdk.error('Worker failed', {});
    });
    assert.deepEqual(lines, [
      { level: 'warn', msg: 'Workflow task failed' },
      { level: 'info', msg: 'No workflows registered, not polling for workflow tasks' },
      { level: 'error', msg: 'Worker failed' },
    ]);
  });
});
