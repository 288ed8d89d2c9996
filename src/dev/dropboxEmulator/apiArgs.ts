import { badInput } from './errors';
import { typeName } from './paths';

/**
 * Request-body checks as Dropbox makes them before a route runs: JSON that decodes, no unknown
 * fields, fields of the right type. Each failure is a 400 with a plain-text message.
 */
export type FieldType = 'string' | 'bool' | 'uint32' | 'object';

export function parseJsonBody(route: string, raw: string, contentType: string | undefined): unknown {
  const trimmed = raw.trim();
  if (trimmed === '') return null;
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/json' && !/charset=dropbox-cors-hack/u.test(contentType ?? '')) {
    throw badInput(
      route,
      `Bad HTTP "Content-Type" header: "${contentType ?? ''}".  Expecting one of "application/json", "application/json; charset=utf-8", "text/plain; charset=dropbox-cors-hack".`,
    );
  }
  try {
    return JSON.parse(trimmed) as unknown;
  } catch {
    throw badInput(route, 'request body: could not decode input as JSON');
  }
}

/** Routes without arguments take `null` (or no body at all). */
export function checkNoArgs(route: string, body: unknown): void {
  const emptyObject =
    typeof body === 'object' && body !== null && !Array.isArray(body) && Object.keys(body).length === 0;
  if (body !== null && !emptyObject)
    throw badInput(route, `request body: expected null, got ${typeName(body)}`);
}

export function checkArgs(
  route: string,
  body: unknown,
  fields: Record<string, FieldType>,
  required: readonly string[],
): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw badInput(route, `request body: expected object, got ${typeName(body)}`);
  }
  const args = body as Record<string, unknown>;
  for (const [key, value] of Object.entries(args)) {
    const type = fields[key];
    if (!type) throw badInput(route, `request body: unknown field '${key}'`);
    if (value === null) continue;
    if (!matches(type, value))
      throw badInput(route, `request body: ${key}: expected ${type}, got ${typeName(value)}`);
  }
  for (const key of required) {
    if (args[key] === undefined || args[key] === null)
      throw badInput(route, `request body: missing required field '${key}'`);
  }
  return args;
}

function matches(type: FieldType, value: unknown): boolean {
  switch (type) {
    case 'string':
      return typeof value === 'string';
    case 'bool':
      return typeof value === 'boolean';
    case 'uint32':
      return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 0xffffffff;
    case 'object':
      return typeof value === 'object' && !Array.isArray(value);
  }
}

export function optionalBool(args: Record<string, unknown>, key: string, fallback: boolean): boolean {
  const value = args[key];
  return typeof value === 'boolean' ? value : fallback;
}
