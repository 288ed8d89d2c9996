import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  classifyDropboxError,
  DropboxCredentialsError,
  DropboxCursorResetError,
  DropboxPathError,
  DropboxRateLimitError,
  DropboxRequestError,
  DropboxRootChangedError,
  DropboxUnavailableError,
  retryAfterMs,
} from '../../src/dropbox/errors';
import { ApplicationFailure } from '@temporalio/common';
import { toActivityFailure } from '../../src/activities/failures';
import { dropboxFailure } from '../../src/api/dropboxErrors';
import { ApiError } from '../../src/api/errors';
import { FailureTypes } from '../../src/domain/failureTypes';
import { createTokenEndpoint, DropboxGrantError } from '../../src/dropbox/tokenEndpoint';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const sdkError = (status: number, error: unknown, headers: Record<string, string> = {}) => ({
  status,
  error,
  headers: { get: (name: string) => headers[name.toLowerCase()] ?? null },
});

describe('Dropbox error classification', () => {
  it('an expired token is a credentials problem, not an outage', () => {
    const err = classifyDropboxError(
      sdkError(401, { error_summary: 'expired_access_token/..', error: { '.tag': 'expired_access_token' } }),
    );
    assert.ok(err instanceof DropboxCredentialsError);
    assert.equal(err.problem, 'expired_token');
  });

  it('a missing scope names the scope Dropbox asked for', () => {
    const err = classifyDropboxError(
      sdkError(401, { error: { '.tag': 'missing_scope', required_scope: 'files.metadata.read' } }),
    );
    assert.ok(err instanceof DropboxCredentialsError);
    assert.equal(err.problem, 'missing_scope');
    assert.equal(err.requiredScope, 'files.metadata.read');
    assert.match(err.message, /files\.metadata\.read/u);
  });

  it('an unknown 401 body is an invalid token', () => {
    const err = classifyDropboxError(sdkError(401, 'Error in call to API function'));
    assert.ok(err instanceof DropboxCredentialsError);
    assert.equal(err.problem, 'invalid_token');
  });

  it('429 waits for the Retry-After header, in milliseconds', () => {
    const err = classifyDropboxError(sdkError(429, { error: { retry_after: 3 } }, { 'retry-after': '7' }));
    assert.ok(err instanceof DropboxRateLimitError);
    assert.equal(err.retryAfterMs, 7000);
  });

  it('429 without the header falls back to the body, then to a default', () => {
    const fromBody = classifyDropboxError(sdkError(429, { error: { retry_after: 3 } }));
    assert.equal((fromBody as DropboxRateLimitError).retryAfterMs, 3000);
    const neither = classifyDropboxError(sdkError(429, 'slow down'));
    assert.equal((neither as DropboxRateLimitError).retryAfterMs, 5000);
    // The token endpoint's answers (plain fetch): no header is the default wait, not none.
    assert.deepEqual([retryAfterMs(null), retryAfterMs('0'), retryAfterMs('2')], [5000, 0, 2000]);
  });

  it("422 invalid_root names the account's root now: a team's root namespace, or none for a personal account", () => {
    const team = classifyDropboxError(
      sdkError(422, { error: { '.tag': 'invalid_root', invalid_root: { '.tag': 'team', root_namespace_id: '3000108', home_namespace_id: '12' } } }),
    );
    assert.ok(team instanceof DropboxRootChangedError);
    assert.equal(team.rootNamespaceId, '3000108');
    const personal = classifyDropboxError(
      sdkError(422, { error: { '.tag': 'invalid_root', invalid_root: { '.tag': 'user', root_namespace_id: '12', home_namespace_id: '12' } } }),
    );
    assert.ok(personal instanceof DropboxRootChangedError);
    assert.equal(personal.rootNamespaceId, undefined);
    assert.ok(classifyDropboxError(sdkError(422, { error: { '.tag': 'no_permission' } })) instanceof DropboxRequestError);
  });

  it('a path Dropbox has locked for now is an outage, retried, not a missing folder', () => {
    const locked = classifyDropboxError(sdkError(409, { error: { '.tag': 'path', path: { '.tag': 'locked' } } }), '/Team/Site');
    assert.ok(locked instanceof DropboxUnavailableError);
    assert.match(locked.message, /locked "\/Team\/Site"/u);
  });

  it('a reset cursor restarts the listing', () => {
    assert.ok(classifyDropboxError(sdkError(409, { error: { '.tag': 'reset' } })) instanceof DropboxCursorResetError);
  });

  it('path/not_found and path/not_folder keep the path asked for', () => {
    const notFound = classifyDropboxError(
      sdkError(409, { error: { '.tag': 'path', path: { '.tag': 'not_found' } } }),
      '/Projects/Gone',
    );
    assert.ok(notFound instanceof DropboxPathError);
    assert.equal(notFound.problem, 'not_found');
    assert.match(notFound.message, /\/Projects\/Gone/u);
    const notFolder = classifyDropboxError(sdkError(409, { error: { '.tag': 'path', path: { '.tag': 'not_folder' } } }), '/a.pdf');
    assert.equal((notFolder as DropboxPathError).problem, 'not_folder');
  });

  it('5xx and network failures are outages, retried', () => {
    assert.ok(classifyDropboxError(sdkError(503, 'unavailable')) instanceof DropboxUnavailableError);
    assert.ok(classifyDropboxError(new TypeError('fetch failed')) instanceof DropboxUnavailableError);
  });

  it('400 is our bug, never retried', () => {
    assert.ok(classifyDropboxError(sdkError(400, 'Error in call to API function "files/list_folder"')) instanceof DropboxRequestError);
  });

  it('400 for a malformed access token is a token Dropbox does not accept, not our bug (nor a cursor reset)', () => {
    const err = classifyDropboxError(
      sdkError(400, 'Error in call to API function "users/get_current_account": The given OAuth 2 access token is malformed.'),
    );
    assert.ok(err instanceof DropboxCredentialsError);
    assert.equal(err.problem, 'invalid_token');
  });
});

describe("the token endpoint's refusals", () => {
  /** A token endpoint that answers 400 with `body`, as Dropbox does. */
  async function refusedWith(body: unknown): Promise<unknown> {
    const server = createServer((_req, res) => res.writeHead(400, { 'Content-Type': 'application/json' }).end(JSON.stringify(body)));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const endpoint = createTokenEndpoint({ apiUrl: `http://127.0.0.1:${port}`, requestTimeoutMs: 5_000 });
      return await endpoint.refreshAccessToken({ refreshToken: 'rt', appKey: 'key', appSecret: 'secret' }).then(
        () => assert.fail('refused'),
        (err: unknown) => err,
      );
    } finally {
      server.close();
    }
  }

  it('reads the error code whether Dropbox sends it alone or with its description in the same field', async () => {
    for (const body of [
      { error: 'invalid_client', error_description: 'Invalid client_id or client_secret' },
      { error: 'invalid_client: Invalid client_id or client_secret' },
    ]) {
      const err = await refusedWith(body);
      assert.ok(err instanceof DropboxGrantError, JSON.stringify(body));
      assert.equal(err.problem, 'invalid_client', JSON.stringify(body));
      assert.ok(!err.message.includes('Invalid client_id'), 'the description is not passed on');
    }
    const grant = await refusedWith({ error: 'invalid_grant: refresh token is invalid or revoked' });
    assert.equal((grant as DropboxGrantError).problem, 'invalid_grant');
    assert.equal(((await refusedWith({ error: 'unsupported_grant_type' })) as DropboxGrantError).problem, 'invalid_request');
  });
});

describe('a token request Dropbox calls malformed', () => {
  const malformed = () => new DropboxGrantError('invalid_request', 'Dropbox refused the token request as malformed');

  it('ends the activity at once, not after ten retries within the cycle', () => {
    const failure = toActivityFailure(malformed());
    assert.ok(failure instanceof ApplicationFailure);
    assert.equal(failure.nonRetryable, true);
    assert.equal(failure.type, FailureTypes.badRequest);
  });

  it('answers the API 502 dropbox_unavailable, not 500 internal_error', () => {
    assert.throws(
      () => dropboxFailure(malformed(), 'stored'),
      (err: unknown) => err instanceof ApiError && err.status === 502 && err.code === 'dropbox_unavailable',
    );
  });
});
