import type { RequestHandler } from 'express';
import type { z } from 'zod';
import { ApiError } from './errors';
import type { Operation } from './openapiOperations';

interface DocumentedPath {
  pattern: RegExp;
  params?: z.ZodType;
  methods: string[];
}

/**
 * A documented path asked with a method it does not take answers 405 with `Allow`, as HTTP
 * says. A path the document does not list, or whose ids are not ids (`/v1/orgs/..`), stays 404.
 * Mounted after the routers, so it sees only what none of them answered.
 */
export function methodNotAllowed(
  operations: readonly Pick<Operation, 'method' | 'path' | 'params'>[],
): RequestHandler {
  const byPath = new Map<string, DocumentedPath>();
  for (const op of operations) {
    // Express matches a parameter as one non-empty segment, case-insensitively, with an optional trailing "/".
    const pattern = new RegExp(`^${op.path.replace(/:(\w+)/gu, '(?<$1>[^/]+)')}/?$`, 'iu');
    const entry = byPath.get(op.path) ?? { pattern, params: op.params, methods: [] };
    entry.methods.push(op.method.toUpperCase());
    // Express answers HEAD with the GET route.
    if (op.method === 'get') entry.methods.push('HEAD');
    byPath.set(op.path, entry);
  }
  const documented = [...byPath.values()];
  return (req, res, next) => {
    const match = documented.find((entry) => {
      const found = entry.pattern.exec(req.path);
      return found && (!entry.params || entry.params.safeParse({ ...found.groups }).success);
    });
    if (!match || match.methods.includes(req.method)) {
      next();
      return;
    }
    const allow = match.methods.join(', ');
    res.set('Allow', allow);
    throw new ApiError(405, 'method_not_allowed', `${req.method.slice(0, 20)} is not allowed here; use ${allow}`);
  };
}
