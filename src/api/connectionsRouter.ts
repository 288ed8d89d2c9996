import { Router } from 'express';
import { dropboxPathProblem, normalizeDropboxPath } from '../domain/dropboxPath';
import type { Connection } from '../domain/types';
import { DropboxRateLimitError } from '../dropbox/errors';
import { connectionNotFound, credentialsOf, findConnection } from './connectionAccess';
import { checkCredentials, createConnection, refreshTokenHeld, replaceCredentials, type Warning } from './connectionCredentials';
import type { AppDeps } from './deps';
import { dropboxFailure } from './dropboxErrors';
import { DuplicateError } from '../db/errors';
import { ApiError } from './errors';
import { projectOf } from './projectAccess';
import {
  browseFoldersQuery,
  connectionParams,
  createConnectionBody,
  noBody, noQuery,
  replaceTokenBody,
} from './schemas';
import { validate } from './validate';
import { connectionView, shownPath } from './views';

export const CONNECTIONS_PATH = '/v1/projects/:projectId/dropbox/connections';

type Deps = Pick<AppDeps, 'repos' | 'dropbox' | 'cipher' | 'credentials' | 'syncWorkflows' | 'log'>;

/**
 * How long a deletion holds off new mappings of the connection: longer than a revocation can take
 * (waiting 20 s for another process's token refresh, the refresh and the revocation, 30 s each),
 * so no mapping is stored unseen before the connection is gone.
 */
export const DELETION_LEASE_MS = 3 * 60_000;

/** A project's Dropbox connections: login, list, token replacement, removal, folder browsing. */
export function connectionsRouter(deps: Deps): Router {
  const { repos, dropbox, credentials, cipher, log } = deps;
  const router = Router();

  router.post(CONNECTIONS_PATH, async (req, res) => {
    const project = projectOf(res);
    validate('query', noQuery, req.query);
    const body = validate('body', createConnectionBody, req.body);
    const checked = await checkCredentials(dropbox, body);
    if (checked.account.email.toLowerCase() !== body.clientIdentification.toLowerCase()) {
      // The other account's email stays unsaid: the token may have been pasted by mistake.
      throw new ApiError(
        422,
        'identity_mismatch',
        `The ${body.refreshToken ? 'refresh' : 'access'} token does not belong to the Dropbox account ${body.clientIdentification}. ` +
          'Generate the token while signed in to that account, or correct the client identification.',
      );
    }
    const connection = await createConnection(deps, project._id, body.clientIdentification, checked).catch(
      async (err: unknown) => {
        if (!(err instanceof DuplicateError)) throw err;
        const existing = await repos.connections.findByAccount(project._id, checked.account.accountId);
        throw new ApiError(
          409,
          'already_connected',
          `The Dropbox account ${body.clientIdentification} is already connected to this project` +
            (existing ? ` (connection ${existing._id}): replace its token instead (PUT .../connections/${existing._id}/token).` : '.'),
          existing ? { connectionId: existing._id } : undefined,
        );
      },
    );
    res.status(201).json(withWarnings(connectionView(connection), checked.warnings));
  });

  router.get(CONNECTIONS_PATH, async (req, res) => {
    const project = projectOf(res);
    validate('query', noQuery, req.query);
    const connections = await repos.connections.listByProject(project._id);
    res.json({ connections: connections.map(connectionView) });
  });

  router.put(`${CONNECTIONS_PATH}/:connectionId/token`, async (req, res) => {
    const { projectId, connectionId } = validate('params', connectionParams, { ...req.params });
    validate('query', noQuery, req.query);
    const body = validate('body', replaceTokenBody, req.body);
    const connection = await findConnection(repos, projectId, connectionId);
    if (body.accessToken !== undefined && holdsWorkingRefreshToken(connection)) {
      // Dropping it would leave a live grant at Dropbox that nothing revokes, and the mappings
      // would stop within four hours. One the refresh refused is dead: an access token may take its place.
      throw refreshTokenHeld(connection.accountEmail);
    }
    const checked = await checkCredentials(dropbox, body);
    if (checked.account.accountId !== connection.accountId) {
      throw new ApiError(
        422,
        'identity_mismatch',
        `The token does not belong to this connection's Dropbox account (${connection.accountEmail}). ` +
          'Generate the token while signed in to that account, or create a new connection for the other one.',
      );
    }
    const updated = await replaceCredentials(deps, connection, checked);
    res.json(withWarnings(connectionView(updated), checked.warnings));
  });

  router.delete(`${CONNECTIONS_PATH}/:connectionId`, async (req, res) => {
    const { projectId, connectionId } = validate('params', connectionParams, { ...req.params });
    validate('query', noQuery, req.query);
    validate('body', noBody, req.body ?? {});
    const connection = await findConnection(repos, projectId, connectionId);
    // Marked before the count: a mapping created at the same time either is counted here, or
    // sees the mark once it is stored and is taken back (mappingsRouter).
    const until = new Date(Date.now() + DELETION_LEASE_MS);
    const marked = await repos.connections.markDeleting(connection._id, until);
    if (marked === 'gone') throw connectionNotFound(connection._id);
    if (marked === 'busy') {
      // Another request is deleting it: this one neither waits for it nor clears its mark.
      throw new ApiError(
        409,
        'connection_being_deleted',
        'Another request is deleting this connection; list the connections in a moment to see whether it is gone.',
        { connectionId: connection._id },
      );
    }
    let deleted = false;
    try {
      const live = await repos.mappings.countLiveByConnection(connection._id);
      if (live > 0) {
        throw new ApiError(
          409,
          'connection_in_use',
          `The connection still has ${live} mapping${live === 1 ? '' : 's'}; unmap ${live === 1 ? 'it' : 'them'} first`,
          { liveMappings: live },
        );
      }
      await revokeAtDropbox(connection);
      deleted = await repos.connections.delete(connection._id);
    } finally {
      if (!deleted) await repos.connections.clearDeleting(connection._id, until).catch(() => undefined);
    }
    log.info('dropbox connection deleted', { projectId, connectionId });
    res.status(204).end();
  });

  router.get(`${CONNECTIONS_PATH}/:connectionId/folders`, async (req, res) => {
    const { projectId, connectionId } = validate('params', connectionParams, { ...req.params });
    const query = validate('query', browseFoldersQuery, req.query);
    const path = normalizeDropboxPath(query.path ?? '');
    const problem = dropboxPathProblem(path);
    if (problem) {
      throw new ApiError(400, 'invalid_path', `Query parameter "path" ${problem}`, {
        field: 'path',
        in: 'query',
      });
    }
    const connection = await findConnection(repos, projectId, connectionId);
    const folders = await dropbox
      .listSubfolders(await credentialsOf(connection, credentials), path)
      .catch((err: unknown) => dropboxFailure(err, 'stored', { field: 'path', in: 'query' }));
    res.json({
      path: shownPath(path),
      folders: folders
        .map((f) => ({ name: f.name, path: f.pathDisplay }))
        .sort((a, b) => a.name.localeCompare(b.name)),
    });
  });

  /**
   * Best effort: Dropbox ends the access token, its refresh token and every token from it. A
   * connection whose credentials Dropbox no longer takes, or a Dropbox that does not answer, is
   * deleted all the same; the admin can still unlink the app in their Dropbox settings. While
   * Dropbox asks the account to wait (429) nothing is deleted: the admin is told when to try again,
   * rather than left with a grant nothing will revoke.
   */
  async function revokeAtDropbox(connection: Connection): Promise<void> {
    // Revoking ends the token's whole grant: another project given the same token or refresh token would stop syncing.
    if (await credentialsShared(connection)) {
      log.info('dropbox token revocation skipped: another connection holds the same credentials', { connectionId: connection._id });
      return;
    }
    try {
      const { token } = await credentials.forConnection(connection);
      await dropbox.revokeToken(token);
    } catch (err) {
      if (err instanceof DropboxRateLimitError) dropboxFailure(err, 'stored');
      log.warn('dropbox token revocation failed; deleting the connection anyway', {
        connectionId: connection._id,
        error: err as Error,
      });
    }
  }

  async function credentialsShared(connection: Connection): Promise<boolean> {
    const others = (await repos.connections.listByAccount(connection.accountId)).filter((c) => c._id !== connection._id);
    if (others.length === 0) return false;
    const mine = openedCredentials(connection);
    return others.some((other) => {
      const theirs = openedCredentials(other);
      return (
        (mine.token !== undefined && mine.token === theirs.token) ||
        (mine.refreshToken !== undefined && mine.refreshToken === theirs.refreshToken)
      );
    });
  }

  /** A token sealed under another key is nobody's to compare. */
  function openedCredentials(connection: Connection): { token?: string; refreshToken?: string } {
    const open = (sealed: Connection['token'] | undefined) => {
      try {
        return sealed ? cipher.open(sealed, { connectionId: connection._id }) : undefined;
      } catch {
        return undefined;
      }
    };
    return { token: open(connection.token), refreshToken: open(connection.refreshToken) };
  }

  return router;
}

function holdsWorkingRefreshToken(connection: Connection): boolean {
  return connection.credentialKind === 'refresh_token' && !connection.refreshRefused;
}

function withWarnings<T extends object>(view: T, warnings: Warning[]): T & { warnings?: Warning[] } {
  return warnings.length > 0 ? { ...view, warnings } : view;
}
