import { proxySinks, type Sinks } from '@temporalio/workflow';

/**
 * What a cycle reports to its worker for metrics and logs. Sinks leave no event in the history and
 * are not called again when a history is replayed, so a report is made once per cycle, and the
 * worker measures in real time (a workflow's clock stands still during its task).
 */
export interface CycleReportSinks extends Sinks {
  cycleReports: {
    /** A cycle the poll timer started; `dueAtMs` is when the timer was due. */
    timerCycleStarted(dueAtMs: number): void;
    /** `outcome`: "ok", "interrupted", or the failure type that ended the cycle. */
    cycleEnded(mappingId: string, outcome: string, error?: string): void;
  };
}

export const { cycleReports } = proxySinks<CycleReportSinks>();
