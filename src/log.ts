import { Writable } from 'node:stream';
import pino, { type DestinationStream } from 'pino';
import pretty from 'pino-pretty';

/**
 * The product's one log stream, on pino: JSON lines (pretty in a terminal), levels, child loggers.
 * Fields whose names say they hold secrets are replaced before anything is written, so a careless
 * `log.info('body', { ...req.body })` stays safe; an error is written as its name and message only.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

/** Names of fields that hold secrets: credentials, a PKCE verifier, a signature, a browser's key. */
const SECRET_FIELD = /token|secret|password|authorization|api[-_ ]?key|cookie|encryption|verifier|signature|browser[-_ ]?key/iu;
/** Deeper than any field the product logs: what lies below is cut, never written unredacted. */
const MAX_DEPTH = 6;

export function redact(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (depth > MAX_DEPTH) return '[too deep]';
  // A stack or an error's own fields (a request's headers, a connection's options) may hold secrets.
  if (value instanceof Error) return { name: value.name, message: value.message };
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value))
    out[k] = SECRET_FIELD.test(k) ? '[redacted]' : redact(v, depth + 1);
  return out;
}

export interface LoggerOptions {
  level?: LogLevel;
  /** Where lines go, one JSON object each (tests collect them); stdout unless told otherwise. */
  write?: (line: string) => void;
  fields?: LogFields;
  /** Human-readable lines instead of JSON lines; by default when writing to stdout and it is a terminal. */
  pretty?: boolean;
}

function destinationOf({ write, pretty: wantPretty }: LoggerOptions): DestinationStream {
  const toLines = write && ((chunk: string) => write(chunk.endsWith('\n') ? chunk.slice(0, -1) : chunk));
  if (!(wantPretty ?? (!toLines && process.stdout.isTTY === true))) {
    return toLines ? { write: toLines } : pino.destination({ dest: 1, sync: true });
  }
  // A stream in this thread, not a transport's worker thread: lines keep their order with the
  // process's other output, and nothing is lost when the process exits at once.
  return pretty({
    sync: true,
    singleLine: true,
    // Errors are plain {name, message} here (see redact): one line like any other field.
    errorLikeObjectKeys: [],
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,service',
    messageFormat: '{if service}{service}: {end}{msg}',
    ...(toLines
      ? {
          colorize: false,
          destination: new Writable({
            write(chunk: Buffer, _encoding, done) {
              toLines(chunk.toString());
              done();
            },
          }),
        }
      : {}),
  });
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const root = pino(
    {
      level: options.level ?? 'info',
      base: (redact(options.fields ?? {}) as LogFields) ?? {},
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        bindings: (bindings) => redact(bindings) as LogFields,
        log: (fields) => redact(fields) as LogFields,
      },
      // Errors are shaped by `redact` above, never by pino's serializer (which writes the stack).
      serializers: { err: (value: unknown) => value },
    },
    destinationOf(options),
  );
  return wrap(root);
}

function wrap(p: pino.Logger): Logger {
  return {
    debug: (msg, fields) => p.debug(fields ?? {}, msg),
    info: (msg, fields) => p.info(fields ?? {}, msg),
    warn: (msg, fields) => p.warn(fields ?? {}, msg),
    error: (msg, fields) => p.error(fields ?? {}, msg),
    child: (fields) => wrap(p.child(redact(fields) as LogFields)),
  };
}

export const silentLogger: Logger = createLogger({ write: () => undefined, level: 'error' });
