import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cycleReportSinks } from '../src/cycleReportSinks';
import { FailureTypes } from '../src/domain/failureTypes';
import { createLogger } from '../src/log';

describe("the cycles' reports on the worker", () => {
  it('warns of a cycle that failed, but not every interval of a mapping that waits in a state it shows', () => {
    const lines: string[] = [];
    const sinks = cycleReportSinks(createLogger({ level: 'info', write: (l) => lines.push(l) }));
    const ended = (outcome: string) => void sinks.cycleReports.cycleEnded.fn({ workflowId: 'folder-sync-m1' } as never, 'm1', outcome, 'why');
    for (const waiting of [FailureTypes.featureDisabled, FailureTypes.credentialsRejected, FailureTypes.folderMissing, FailureTypes.rateLimited]) ended(waiting);
    ended('ok');
    assert.deepEqual(lines, [], 'nothing at info or above');
    ended(FailureTypes.badRequest);
    ended('some unexpected error');
    const warned = lines.map((l) => JSON.parse(l) as { level: string; msg: string; mappingId: string; outcome: string });
    assert.deepEqual(warned.map((l) => [l.level, l.msg, l.mappingId, l.outcome]), [
      ['warn', 'cycle failed', 'm1', FailureTypes.badRequest],
      ['warn', 'cycle failed', 'm1', 'some unexpected error'],
    ]);
  });
});
