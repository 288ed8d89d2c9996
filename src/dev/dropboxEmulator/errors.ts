/**
 * Dropbox's error answers, shaped as its API documentation and SDKs expect them: 400 is plain
 * text, 401/409/422/429 are JSON with `error_summary` and a tagged `error`, 5xx is plain text.
 * Handlers throw these and the server writes them out.
 */
export class DropboxApiError extends Error {
  override name = 'DropboxApiError';
  constructor(
    readonly status: number,
    readonly body: string | Record<string, unknown>,
    readonly headers: Record<string, string> = {},
  ) {
    super(typeof body === 'string' ? body : String(body['error_summary']));
  }
}

/** Dropbox pads summaries with dots so that nobody parses them; the `error` object is the API. */
function tagged(
  status: number,
  summary: string,
  error: Record<string, unknown>,
  headers?: Record<string, string>,
) {
  return new DropboxApiError(status, { error_summary: `${summary}/...`, error }, headers);
}

export function badInput(route: string, detail: string): DropboxApiError {
  return new DropboxApiError(400, `Error in call to API function "${route}": ${detail}`);
}

export function invalidAccessToken(): DropboxApiError {
  return tagged(401, 'invalid_access_token', { '.tag': 'invalid_access_token' });
}

export function expiredAccessToken(): DropboxApiError {
  return tagged(401, 'expired_access_token', { '.tag': 'expired_access_token' });
}

export function missingScope(requiredScope: string): DropboxApiError {
  return tagged(401, 'missing_scope', { '.tag': 'missing_scope', required_scope: requiredScope });
}

export type LookupProblem = 'not_found' | 'not_folder' | 'not_file' | 'malformed_path' | 'restricted_content';

export function pathError(problem: LookupProblem): DropboxApiError {
  return new DropboxApiError(409, {
    error_summary: `path/${problem}/..`,
    error: { '.tag': 'path', path: { '.tag': problem } },
  });
}

/** A file Dropbox cannot send as it is (Google Docs, Sheets and Slides, Paper docs): export it. */
export function unsupportedFile(): DropboxApiError {
  return tagged(409, 'unsupported_file', { '.tag': 'unsupported_file' });
}

export function cursorReset(): DropboxApiError {
  return tagged(409, 'reset', { '.tag': 'reset' });
}

export function invalidRoot(rootInfo: Record<string, unknown>): DropboxApiError {
  return tagged(422, 'invalid_root', { '.tag': 'invalid_root', invalid_root: rootInfo });
}

export function noPermissionForRoot(): DropboxApiError {
  return tagged(422, 'no_permission', { '.tag': 'no_permission' });
}

export function tooManyRequests(retryAfterSeconds: number): DropboxApiError {
  return tagged(
    429,
    'too_many_requests',
    { reason: { '.tag': 'too_many_requests' }, retry_after: retryAfterSeconds },
    { 'Retry-After': String(retryAfterSeconds) },
  );
}

export function serverError(status: number): DropboxApiError {
  const text = status === 503 ? 'Service Unavailable' : 'Internal Server Error';
  return new DropboxApiError(status, text);
}
