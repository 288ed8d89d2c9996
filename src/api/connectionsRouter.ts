import { Router } from 'express';
import { dropboxPathProblem, normalizeDropboxPath } from '../domain/dropboxPath';
import { NotFoundError } from '../db/errors';
import type { DropboxAccount } from '../dropbox/client';
import {
  checkToken,
  connectionNotFound,
  credentialsOf,
  findConnection,
  tokenWarnings,
} from './connectionAccess';
import type { AppDeps } from './deps';
import { dropboxFailure } from './dropboxErrors';
import { ApiError } from './errors';
import { projectOf } from './projectAccess';
import {
  browseFoldersQuery,
  connectionParams,
  createConnectionBody,
  noQuery,
  replaceTokenBody,
} from './schemas';
import { validate } from './validate';
import { connectionView, shownPath } from './views';

export const CONNECTIONS_PATH = '/v1/projects/:projectId/dropbox/connections';

/** What the connection keeps of the account; a team account's root namespace included. */
function accountFields(account: DropboxAccount) {
  return {
    accountId: account.accountId,
    accountEmail: account.email,
    accountName: account.name,
    ...(account.rootNamespaceId ? { rootNamespaceId: account.rootNamespaceId } : {}),
  };
}

type Deps = Pick<AppDeps, 'repos' | 'dropbox' | 'cipher' | 'syncWorkflows' | 'log'>;

/** A project's Dropbox connections: login, list, token replacement, removal, folder browsing. */
export function connectionsRouter(deps: Deps): Router {
  const { repos, dropbox, cipher, syncWorkflows, log } = deps;
  const router = Router();

  router.post(CONNECTIONS_PATH, async (req, res) => {
    const project = projectOf(res);
    validate('query', noQuery, req.query);
    const body = validate('body', createConnectionBody, req.body);
    const account = await checkToken(dropbox, body.accessToken);
    if (account.email.toLowerCase() !== body.clientIdentification.toLowerCase()) {
      // The other account's email stays unsaid: the token may have been pasted by mistake.
      throw new ApiError(
        422,
        'identity_mismatch',
        `The access token does not belong to the Dropbox account ${body.clientIdentification}. ` +
          'Generate the token while signed in to that account, or correct the client identification.',
      );
    }
    const warnings = await tokenWarnings(dropbox, body.accessToken, account);
    const connection = await repos.connections.create({
      projectId: project._id,
      clientIdentification: body.clientIdentification,
      ...accountFields(account),
      token: cipher.seal(body.accessToken),
    });
    log.info('dropbox connection created', { projectId: project._id, connectionId: connection._id });
    res.status(201).json({ ...connectionView(connection), warnings });
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
    const account = await checkToken(dropbox, body.accessToken);
    if (account.accountId !== connection.accountId) {
      throw new ApiError(
        422,
        'identity_mismatch',
        `The access token does not belong to this connection's Dropbox account (${connection.accountEmail}). ` +
          'Generate the token while signed in to that account, or create a new connection for the other one.',
      );
    }
    const warnings = await tokenWarnings(dropbox, body.accessToken, account);
    const updated = await repos.connections
      .replaceToken(connection._id, cipher.seal(body.accessToken), accountFields(account))
      .catch((err: unknown) => {
        // Deleted by another request since it was read.
        throw err instanceof NotFoundError ? connectionNotFound(connectionId) : err;
      });
    // Mappings waiting for credentials retry at once instead of at their next interval. A failed
    // signal is not the admin's problem: the workflow retries the stored token every interval.
    const mappings = await repos.mappings.listLiveByConnection(connection._id);
    const results = await Promise.allSettled(
      mappings.map((m) => syncWorkflows.signal(m, 'credentialsUpdated')),
    );
    results.forEach((r, i) => {
      if (r.status === 'rejected') {
        log.warn('credentialsUpdated signal failed', {
          mappingId: mappings[i]?._id,
          error: r.reason as unknown,
        });
      }
    });
    log.info('dropbox token replaced', { projectId, connectionId, mappingsSignalled: mappings.length });
    res.json({ ...connectionView(updated), warnings });
  });

  router.delete(`${CONNECTIONS_PATH}/:connectionId`, async (req, res) => {
    const { projectId, connectionId } = validate('params', connectionParams, { ...req.params });
    validate('query', noQuery, req.query);
    const connection = await findConnection(repos, projectId, connectionId);
    const live = await repos.mappings.countLiveByConnection(connection._id);
    if (live > 0) {
      throw new ApiError(
        409,
        'connection_in_use',
        `The connection still has ${live} mapping${live === 1 ? '' : 's'}; unmap ${live === 1 ? 'it' : 'them'} first`,
        { liveMappings: live },
      );
    }
    await repos.connections.delete(connection._id);
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
    const credentials = credentialsOf(connection, cipher);
    const folders = await dropbox
      .listSubfolders(credentials, path)
      .catch((err: unknown) => dropboxFailure(err, 'stored'));
    res.json({
      path: shownPath(path),
      folders: folders
        .map((f) => ({ name: f.name, path: f.pathDisplay }))
        .sort((a, b) => a.name.localeCompare(b.name)),
    });
  });

  return router;
}
