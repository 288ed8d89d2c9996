import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler, Response } from 'express';
import type { User } from '../domain/types';
import type { ApiRepositories } from './deps';
import { ApiError } from './errors';

export type Caller = { kind: 'root' } | { kind: 'user'; user: User };

// Far longer than any key we issue; a longer header is not worth hashing or looking up.
const MAX_KEY_LENGTH = 512;

function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/**
 * Compares digests, not the keys: equal lengths for timingSafeEqual, and the time taken says
 * nothing about how much of the root key a guess got right.
 */
export function isRootKey(candidate: string, rootApiKey: string): boolean {
  return timingSafeEqual(sha256(candidate), sha256(rootApiKey));
}

function bearerKey(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer[ ]+(\S+)[ ]*$/iu.exec(header);
  const key = match?.[1];
  return key && key.length <= MAX_KEY_LENGTH ? key : undefined;
}

export function unauthorized(): ApiError {
  return new ApiError(401, 'unauthorized', 'Send a valid API key as "Authorization: Bearer <key>"');
}

/** Who is calling: the root key, a user's key, or nobody (401). Runs before any body is parsed. */
export function authenticate(deps: {
  repos: Pick<ApiRepositories, 'users'>;
  rootApiKey: string;
}): RequestHandler {
  return async (req, res, next) => {
    const key = bearerKey(req.get('authorization'));
    if (key === undefined) throw unauthorized();
    if (isRootKey(key, deps.rootApiKey)) {
      res.locals.caller = { kind: 'root' } satisfies Caller;
      next();
      return;
    }
    const user = await deps.repos.users.findByApiKey(key);
    if (!user) throw unauthorized();
    res.locals.caller = { kind: 'user', user } satisfies Caller;
    next();
  };
}

export function callerOf(res: Response): Caller {
  const caller = res.locals.caller as Caller | undefined;
  // Routes are mounted behind authenticate(); reaching here without a caller is a wiring bug.
  if (!caller) throw new Error('route reached without authentication');
  return caller;
}

/** Management routes: the root key only. */
export function requireRoot(): RequestHandler {
  return (_req, res, next) => {
    if (callerOf(res).kind !== 'root') {
      throw new ApiError(
        403,
        'forbidden',
        'Only the root API key may manage organizations, projects and users',
      );
    }
    next();
  };
}
