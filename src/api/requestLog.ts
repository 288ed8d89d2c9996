import { randomUUID } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import type { Logger } from '../log';

// A caller's id is kept only when it is plainly an id: anything else could smuggle text into logs.
const CALLER_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/u;

/** The route pattern (`/v1/projects/:projectId/...`), never the path: ids and queries stay out. */
function routePattern(req: Request): string | undefined {
  const path = (req.route as { path?: unknown } | undefined)?.path;
  return typeof path === 'string' ? path : undefined;
}

// Scrapes and probes, every few seconds from Prometheus and load balancers: debug lines when they succeed.
const ROUTINE_ROUTES = new Set(['/metrics', '/healthz', '/readyz']);

/**
 * One JSON line per request: id, method, route pattern, status, duration. Bodies, headers and
 * query strings are never logged: they hold API keys, Dropbox tokens and email addresses.
 */
export function requestLog(log: Logger): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    const given = req.get('x-request-id');
    const requestId = given && CALLER_REQUEST_ID.test(given) ? given : randomUUID();
    res.locals.requestId = requestId;
    res.setHeader('X-Request-Id', requestId);
    res.on('finish', () => {
      const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
      const routine = res.statusCode < 400 && ROUTINE_ROUTES.has(routePattern(req) ?? '');
      (routine ? log.debug : log.info)('request', {
        requestId,
        method: req.method,
        route: routePattern(req) ?? null,
        status: res.statusCode,
        durationMs: Math.round(durationMs * 10) / 10,
      });
    });
    next();
  };
}
