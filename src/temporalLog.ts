import { DefaultLogger, type LogLevel as SdkLogLevel, type Logger as SdkLogger } from '@temporalio/worker';
import type { LogFields, Logger, LogLevel } from './log';

const SDK_LEVEL: Record<LogLevel, SdkLogLevel> = {
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARN',
  error: 'ERROR',
};

/**
 * What the SDK warns of at every start of the contents worker, which runs activities only by
 * design (its own task queue, no workflows): said at info, so a warning still means a problem.
 */
const ACTIVITIES_ONLY_WORKER = 'No workflows registered, not polling for workflow tasks';

/**
 * The Temporal SDK's lines as the product's: the worker's own, its Rust core's (forwarded), and
 * what workflows (`log` from '@temporalio/workflow', through the worker's sink) and activities
 * (`log` from '@temporalio/activity') write, each with the SDK's fields (workflowId, activityType…).
 * `quietInfo` writes the SDK's info lines at debug: the bundler's multi-line webpack report.
 */
export function sdkLogger(log: Logger, level: LogLevel, options: { quietInfo?: boolean } = {}): SdkLogger {
  return new DefaultLogger(SDK_LEVEL[level], ({ level: sdkLevel, message, meta }) => {
    const fields = meta as LogFields | undefined;
    if (sdkLevel === 'ERROR') log.error(message, fields);
    else if (sdkLevel === 'WARN') {
      if (message === ACTIVITIES_ONLY_WORKER) log.info(message, fields);
      else log.warn(message, fields);
    }
    else if (sdkLevel === 'INFO' && !options.quietInfo) log.info(message, fields);
    else log.debug(message, fields);
  });
}
