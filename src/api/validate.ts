import type { z } from 'zod';
import { type RequestPart, RequestValidationError } from './errors';
import { ApiError } from './errors';

/** Parses one part of a request with its schema; a failure becomes a 400 that names the fields. */
export function validate<S extends z.ZodType>(part: RequestPart, schema: S, value: unknown): z.output<S> {
  if (part === 'body' && value === undefined) {
    // express.json() leaves the body unset when the request did not say it holds JSON.
    throw new ApiError(
      400,
      'invalid_request',
      'The request needs a JSON body sent as Content-Type: application/json',
    );
  }
  const result = schema.safeParse(value);
  if (!result.success) throw new RequestValidationError(part, result.error);
  return result.data;
}
