import type { ErrorRequestHandler, RequestHandler } from 'express';
import { ZodError, type z } from 'zod';
import type { Logger } from '../log';

/** An answer the API means to give: status, stable code, a message that says what to fix. */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

/** Where a request value came from, so that a validation error names the field exactly. */
export type RequestPart = 'body' | 'params' | 'query';

/** A request value that failed its schema; the error middleware turns it into a 400. */
export class RequestValidationError extends Error {
  override name = 'RequestValidationError';
  constructor(
    readonly part: RequestPart,
    readonly zodError: ZodError,
  ) {
    super(`invalid ${part}`);
  }
}

export interface FieldProblem {
  /** Dotted path inside the request part, e.g. `features.dropbox`; `` for the part itself. */
  field: string;
  in: RequestPart | 'request';
  problem: string;
}

const PART_NAMES: Record<RequestPart, string> = {
  body: 'body',
  params: 'path parameter',
  query: 'query parameter',
};

/** One entry per offending field; unknown keys are named one by one. */
export function fieldProblems(part: RequestPart | 'request', error: ZodError): FieldProblem[] {
  const problems: FieldProblem[] = [];
  for (const issue of error.issues) {
    const base = issue.path.map(String);
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        problems.push({ field: [...base, key].join('.'), in: part, problem: 'is not a known field' });
      }
    } else {
      problems.push({ field: base.join('.'), in: part, problem: describeIssue(issue) });
    }
  }
  return problems;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  // Zod's "Invalid input: expected string, received object" reads well once the prefix is gone.
  return issue.message.replace(/^Invalid input: /u, '');
}

function validationMessage(part: RequestPart | 'request', problems: FieldProblem[]): string {
  const shown = problems.slice(0, 5).map((p) => {
    if (p.field === '') return `the ${part === 'request' ? 'request' : PART_NAMES[part]} ${p.problem}`;
    const where = part === 'body' || part === 'request' ? 'field' : PART_NAMES[part];
    return `${where} "${p.field}" ${p.problem}`;
  });
  const more = problems.length > 5 ? ` (and ${problems.length - 5} more)` : '';
  return `Invalid request: ${shown.join('; ')}${more}`;
}

/** A body with thousands of bad fields must not get an answer larger than itself. */
const MAX_FIELDS_SHOWN = 50;

function shownFields(problems: FieldProblem[]): Record<string, unknown> {
  if (problems.length <= MAX_FIELDS_SHOWN) return { fields: problems };
  return { fields: problems.slice(0, MAX_FIELDS_SHOWN), moreFields: problems.length - MAX_FIELDS_SHOWN };
}

interface BodyParserError {
  type: string;
  status?: number;
}

function isBodyParserError(err: unknown): err is BodyParserError {
  return (
    typeof err === 'object' &&
    err !== null &&
    typeof (err as BodyParserError).type === 'string' &&
    'expose' in err
  );
}

/** An http-errors error (body-parser's) marked as the client's fault; other errors with a status, such as Dropbox's, are not. */
function isClientFault(err: unknown): boolean {
  if (typeof err !== 'object' || err === null || !('expose' in err)) return false;
  const status = (err as { status?: unknown }).status;
  return typeof status === 'number' && status >= 400 && status < 500;
}

function bodyParserAnswer(err: BodyParserError): ApiError {
  switch (err.type) {
    case 'entity.parse.failed':
      return new ApiError(400, 'invalid_json', 'The request body is not valid JSON');
    case 'entity.too.large':
      return new ApiError(413, 'payload_too_large', 'The request body is larger than the 100 kB limit');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new ApiError(415, 'unsupported_media_type', 'The request body must be UTF-8 JSON');
    default:
      // Aborted or mismatched-length uploads: the client's side of the wire went wrong.
      return new ApiError(400, 'invalid_request', 'The request body could not be read');
  }
}

/** Turns anything thrown into the API's answer; only ApiErrors carry their own words out. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof RequestValidationError) {
    const problems = fieldProblems(err.part, err.zodError);
    return new ApiError(400, 'invalid_request', validationMessage(err.part, problems), shownFields(problems));
  }
  if (err instanceof ZodError) {
    const problems = fieldProblems('request', err);
    return new ApiError(
      400,
      'invalid_request',
      validationMessage('request', problems),
      shownFields(problems),
    );
  }
  if (isBodyParserError(err)) return bodyParserAnswer(err);
  // Express cannot decode a path parameter that is not percent-encoded UTF-8.
  if (err instanceof URIError)
    return new ApiError(400, 'invalid_request', 'The path is not valid percent-encoded UTF-8');
  // body-parser marks what it could not undo (a Content-Encoding that does not match the body).
  if (isClientFault(err))
    return new ApiError(400, 'invalid_request', 'The request body could not be decoded');
  return new ApiError(500, 'internal_error', 'Something went wrong on our side; try again later');
}

export function errorBody(error: ApiError): { error: { code: string; message: string; details?: unknown } } {
  return {
    error: {
      code: error.code,
      message: error.message,
      ...(error.details === undefined ? {} : { details: error.details }),
    },
  };
}

/** The one error middleware: every failure leaves as `{"error": {code, message, details?}}`. */
export function errorHandler(log: Logger): ErrorRequestHandler {
  return (err: unknown, _req, res, next) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    const answer = toApiError(err);
    if (answer.status >= 500 && !(err instanceof ApiError)) {
      // The name and message only: stacks and request data stay out of the logs' reach of secrets.
      const e = err instanceof Error ? { name: err.name, message: err.message } : { message: String(err) };
      log.error('request failed', { error: e, requestId: res.locals.requestId as string | undefined });
    }
    res.status(answer.status).json(errorBody(answer));
  };
}

/** Unknown routes answer like every other error instead of Express's HTML page. */
export function notFoundHandler(): RequestHandler {
  return (req, _res, next) => {
    next(new ApiError(404, 'not_found', `No route ${req.method} ${req.path.slice(0, 200)}`));
  };
}
