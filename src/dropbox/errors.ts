/**
 * What can go wrong talking to Dropbox, classified by what the product does about it:
 * credentials problems wait for the admin, rate limits wait for Retry-After, outages are
 * retried, a reset cursor restarts the listing, a missing folder is reported.
 */
export type CredentialsProblem =
  | 'invalid_token'
  | 'expired_token'
  | 'missing_scope'
  | 'access_denied'
  /** Dropbox refused the connection's refresh token (`invalid_grant`) or its app (`invalid_client`). */
  | 'refresh_refused';

export class DropboxCredentialsError extends Error {
  override name = 'DropboxCredentialsError';
  constructor(
    readonly problem: CredentialsProblem,
    message: string,
    readonly requiredScope?: string,
  ) {
    super(message);
  }
}

export class DropboxRateLimitError extends Error {
  override name = 'DropboxRateLimitError';
  constructor(readonly retryAfterMs: number) {
    super(`Dropbox asked to slow down; retry after ${Math.ceil(retryAfterMs / 1000)} s`);
  }
}

export class DropboxUnavailableError extends Error {
  override name = 'DropboxUnavailableError';
}

export type PathProblem = 'not_found' | 'not_folder' | 'not_file' | 'malformed_path' | 'restricted_content' | 'other';

export class DropboxPathError extends Error {
  override name = 'DropboxPathError';
  constructor(
    readonly problem: PathProblem,
    readonly path: string,
  ) {
    super(pathMessage(problem, path));
  }
}

export class DropboxCursorResetError extends Error {
  override name = 'DropboxCursorResetError';
  constructor() {
    super('Dropbox reset the listing cursor; the folder must be listed again from the start');
  }
}

/** A file Dropbox cannot send as it is (Google Docs, Sheets, Slides, Paper docs): only an export can. */
export class DropboxUnsupportedFileError extends Error {
  override name = 'DropboxUnsupportedFileError';
  constructor(readonly path: string) {
    super('Dropbox cannot download this kind of file (a Google Docs, Sheets or Slides file, or a Paper doc) as it is');
  }
}

/**
 * The account's root namespace is no longer the one the call named (Dropbox-API-Path-Root): it
 * joined, left or changed teams. As Dropbox's path root guide says, calls go on under the root it
 * names now (undefined: a personal account's, which needs no header).
 */
export class DropboxRootChangedError extends Error {
  override name = 'DropboxRootChangedError';
  constructor(readonly rootNamespaceId: string | undefined) {
    super("The Dropbox account's root namespace changed (it joined, left or changed teams)");
  }
}

/** A request Dropbox refused as malformed: a bug on our side, never worth retrying. */
export class DropboxRequestError extends Error {
  override name = 'DropboxRequestError';
}

/** A path as messages name it (the API's `shownPath` is for path fields). */
function pathInMessage(path: string): string {
  return path === '' ? 'the root folder' : `"${path}"`;
}

function pathMessage(problem: PathProblem, path: string): string {
  const shown = pathInMessage(path);
  switch (problem) {
    case 'not_found':
      return `Dropbox has no folder at ${shown}`;
    case 'not_folder':
      return `${shown} is a file, not a folder`;
    case 'not_file':
      return `${shown} is a folder, not a file`;
    case 'malformed_path':
      return `Dropbox refused ${shown} as a malformed path`;
    case 'restricted_content':
      return `Dropbox restricts access to ${shown}`;
    default:
      return `Dropbox could not open ${shown}`;
  }
}

interface SdkErrorShape {
  status: number;
  headers?: { get?: (name: string) => string | null };
  error?: unknown;
}

function isSdkError(err: unknown): err is SdkErrorShape {
  return typeof err === 'object' && err !== null && typeof (err as SdkErrorShape).status === 'number';
}

function tagOf(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const tag = (value as Record<string, unknown>)['.tag'];
  return typeof tag === 'string' ? tag : undefined;
}

function field(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}

const DEFAULT_RETRY_AFTER_MS = 5_000;

/** A 429's wait: its Retry-After header, else the seconds its body names, else 5 s. */
export function retryAfterMs(header: string | null | undefined, body?: unknown): number {
  const seconds = header ? Number(header) : Number(field(field(body, 'error'), 'retry_after'));
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : DEFAULT_RETRY_AFTER_MS;
}

/**
 * Turns whatever the SDK or `fetch` threw into one of the errors above. Messages never hold the
 * token: only Dropbox's error tags and the path asked for.
 */
export function classifyDropboxError(err: unknown, path = ''): Error {
  if (!isSdkError(err)) {
    const reason = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    return new DropboxUnavailableError(`Dropbox could not be reached (${reason})`);
  }
  const body = err.error;
  const inner = field(body, 'error');
  const tag = tagOf(inner);
  switch (err.status) {
    case 401:
      if (tag === 'expired_access_token') {
        return new DropboxCredentialsError('expired_token', 'The Dropbox access token has expired');
      }
      if (tag === 'missing_scope') {
        const scope = String(field(inner, 'required_scope') ?? 'unknown');
        return new DropboxCredentialsError(
          'missing_scope',
          `The Dropbox access token lacks the "${scope}" scope`,
          scope,
        );
      }
      return new DropboxCredentialsError('invalid_token', 'Dropbox does not accept the access token');
    case 400:
      // Plain text: what was sent cannot be a token at all (a paste cut short, say).
      if (typeof body === 'string' && /access token is malformed/iu.test(body)) {
        return new DropboxCredentialsError('invalid_token', 'Dropbox does not accept the access token (it is malformed)');
      }
      return new DropboxRequestError(`Dropbox refused the request with status ${err.status}`);
    case 403:
      return new DropboxCredentialsError('access_denied', 'Dropbox denied access for this token');
    case 409:
      if (tag === 'reset') return new DropboxCursorResetError();
      if (tag === 'unsupported_file') return new DropboxUnsupportedFileError(path);
      if (tag === 'path') {
        const p = tagOf(field(inner, 'path'));
        // A team folder being moved, say: it is there, and answers again later.
        if (p === 'locked') return new DropboxUnavailableError(`Dropbox has locked ${pathInMessage(path)} for now`);
        const known: PathProblem[] = ['not_found', 'not_folder', 'not_file', 'malformed_path', 'restricted_content'];
        return new DropboxPathError(known.includes(p as PathProblem) ? (p as PathProblem) : 'other', path);
      }
      return new DropboxRequestError(`Dropbox refused the request (${String(field(body, 'error_summary') ?? tag)})`);
    case 422:
      if (tag === 'invalid_root') {
        const root = field(inner, 'invalid_root');
        const id = field(root, 'root_namespace_id');
        return new DropboxRootChangedError(tagOf(root) === 'team' && typeof id === 'string' ? id : undefined);
      }
      return new DropboxRequestError(`Dropbox refused the request (${String(field(body, 'error_summary') ?? tag)})`);
    case 429:
      return new DropboxRateLimitError(retryAfterMs(err.headers?.get?.('retry-after'), err.error));
    default:
      if (err.status >= 500) return new DropboxUnavailableError(`Dropbox answered ${err.status}`);
      return new DropboxRequestError(`Dropbox refused the request with status ${err.status}`);
  }
}
