import {
  DropboxCredentialsError,
  DropboxPathError,
  DropboxRateLimitError,
  DropboxRequestError,
  DropboxUnavailableError,
} from '../dropbox/errors';
import { ApiError, type RequestPart } from './errors';
import { DropboxGrantError } from '../dropbox/tokenEndpoint';
import { shownPath } from './views';

/**
 * Where the token came from decides what the admin should do: a token just typed in is fixed
 * by generating a new one; a stored one is replaced through the connection's token route.
 */
export type TokenSource = 'given' | 'stored';

const FIX: Record<TokenSource, string> = {
  given: 'Generate a new access token in the Dropbox App Console and try again.',
  stored: 'Generate a new access token and save it with PUT .../connections/{connectionId}/token.',
};

function credentialsAnswer(err: DropboxCredentialsError, source: TokenSource): ApiError {
  const subject = source === 'given' ? 'The access token' : "The connection's access token";
  switch (err.problem) {
    case 'expired_token':
      return new ApiError(422, 'expired_token', `${subject} has expired. ${FIX[source]}`);
    case 'missing_scope': {
      const scope = err.requiredScope ?? 'files.metadata.read';
      return new ApiError(
        422,
        'missing_scope',
        `${subject} lacks the "${scope}" scope. Enable "${scope}" on the Permissions tab of the Dropbox app, then generate a new token.`,
        { requiredScope: scope },
      );
    }
    case 'refresh_refused':
      return new ApiError(422, 'invalid_refresh_token', err.message);
    case 'access_denied':
      return new ApiError(
        422,
        'access_denied',
        `Dropbox denied access for ${subject.toLowerCase()}. ${FIX[source]}`,
      );
    default:
      return new ApiError(
        422,
        'invalid_token',
        `Dropbox does not accept ${subject.toLowerCase()}. ${FIX[source]}`,
      );
  }
}

/** "Dropbox answered 503" is Dropbox's own failure (502); anything else never reached it (503). */
function unavailableAnswer(err: DropboxUnavailableError): ApiError {
  const fromDropbox = /^Dropbox answered \d{3}/u.test(err.message);
  return new ApiError(
    fromDropbox ? 502 : 503,
    'dropbox_unavailable',
    fromDropbox
      ? 'Dropbox answered with a server error; try again in a few minutes'
      : 'Dropbox could not be reached; try again in a few minutes',
  );
}

/**
 * Turns a Dropbox adapter error into the API's answer; anything else is rethrown as it is. A path
 * Dropbox refuses names the request's field that carried it (`pathFrom`), as a 400 of ours does.
 */
export function dropboxFailure(err: unknown, source: TokenSource, pathFrom?: { field: string; in: RequestPart }): never {
  if (err instanceof DropboxCredentialsError) throw credentialsAnswer(err, source);
  if (err instanceof DropboxRateLimitError) {
    const retryAfterSeconds = Math.ceil(err.retryAfterMs / 1000);
    throw new ApiError(
      503,
      'dropbox_unavailable',
      `Dropbox asked us to slow down; retry in ${retryAfterSeconds} s`,
      {
        retryAfterSeconds,
      },
    );
  }
  if (err instanceof DropboxUnavailableError) throw unavailableAnswer(err);
  if (err instanceof DropboxPathError) {
    const path = shownPath(err.path);
    const details = { path, ...pathFrom };
    switch (err.problem) {
      case 'not_found':
        throw new ApiError(404, 'folder_not_found', `Dropbox has no folder at "${path}"`, details);
      case 'not_folder':
        throw new ApiError(400, 'not_a_folder', `"${path}" is a file in Dropbox, not a folder`, details);
      default:
        throw new ApiError(400, 'invalid_path', `Dropbox cannot open "${path}": ${err.message}`, details);
    }
  }
  // A token request refused as malformed (a refusal of the token itself is a credentials error).
  if (err instanceof DropboxRequestError || err instanceof DropboxGrantError) {
    throw new ApiError(502, 'dropbox_unavailable', 'Dropbox refused the request; try again later');
  }
  throw err;
}
