import { Context } from '@temporalio/activity';
import type { Logger } from '../log';

/** An activity's lines about one mapping carry its id and its workflow's, to follow its cycles. */
export function mappingLog(log: Logger, mappingId: string): Logger {
  let workflowId: string | undefined;
  try {
    workflowId = Context.current().info.workflowExecution?.workflowId;
  } catch {
    // Called outside an activity (a direct call): the mapping id alone.
  }
  return log.child({ mappingId, ...(workflowId ? { workflowId } : {}) });
}
