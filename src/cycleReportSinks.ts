import type { InjectedSinks } from '@temporalio/worker';
import { FailureTypes } from './domain/failureTypes';
import type { Logger } from './log';
import { cycleStartLag, cycles } from './metrics';
import type { CycleReportSinks } from './workflows/cycleReports';

const OUTCOMES = new Set<string>(['ok', 'interrupted', ...Object.values(FailureTypes)]);
/**
 * Outcomes of a mapping that waits (for credentials, the feature, its folder, or Dropbox's
 * Retry-After): its state and the cycle metric say so; a warn line every interval would bury the
 * warnings that need someone.
 */
const WAITING = new Set<string>([
  FailureTypes.credentialsRejected,
  FailureTypes.featureDisabled,
  FailureTypes.folderMissing,
  FailureTypes.rateLimited,
]);

/** The worker's side of the cycles' reports: the cycle metrics, and a line per cycle. */
export function cycleReportSinks(log: Logger): InjectedSinks<CycleReportSinks> {
  return {
    cycleReports: {
      timerCycleStarted: {
        fn: (_info, dueAtMs) => {
          const lagMs = Date.now() - dueAtMs;
          // A timer never fires early; a negative lag is clock skew between server and worker.
          cycleStartLag.observe(Math.max(0, lagMs) / 1000);
        },
      },
      cycleEnded: {
        fn: (info, mappingId, outcome, error) => {
          // Failure types are a fixed set; anything else (an exhausted retry) counts as "error".
          cycles.inc({ outcome: OUTCOMES.has(outcome) ? outcome : 'error' });
          const mappingLog = log.child({ mappingId, workflowId: info.workflowId });
          if (outcome === 'ok' || outcome === 'interrupted') mappingLog.debug('cycle ended', { outcome });
          else if (WAITING.has(outcome)) mappingLog.debug('cycle waits', { outcome, error });
          else mappingLog.warn('cycle failed', { outcome, error });
        },
      },
    },
  };
}
