import { Router } from 'express';
import { DuplicateError } from '../db/errors';
import { createSlots } from '../slots';
import { shownContentCounts } from '../domain/contentScope';
import { dropboxPathKey, dropboxPathProblem, normalizeDropboxPath } from '../domain/dropboxPath';
import { describeCharacters } from '../domain/pathPolicy';
import type { Mapping } from '../domain/types';
import { credentialsOf, findConnection } from './connectionAccess';
import type { AppDeps } from './deps';
import { dropboxFailure } from './dropboxErrors';
import { ApiError } from './errors';
import { findMapping, signalMapping, startMappingWorkflow } from './mappingAccess';
import type { MappingCommand } from './syncWorkflows';
import { projectOf } from './projectAccess';
import { createMappingBody, listMappingsQuery, mappingParams, noBody, noQuery } from './schemas';
import { validate } from './validate';
import { mappingView, type MappingCounts } from './views';

export const MAPPINGS_PATH = '/v1/projects/:projectId/dropbox/mappings';

type Deps = Pick<AppDeps, 'repos' | 'dropbox' | 'credentials' | 'syncWorkflows' | 'pathPolicy' | 'log'>;

/** What admins may ask of a mapping's workflow, and the signal each one sends. */
const COMMANDS = [
  { action: 'pause', command: 'pause' },
  { action: 'resume', command: 'resume' },
  { action: 'sync', command: 'syncNow' },
] as const satisfies readonly { action: string; command: MappingCommand }[];

/** Workflow status queries one list answer runs at once. */
const LIVE_STATUS_CONCURRENCY = 16;

/** Mappings: create (starting the workflow), list, status, pause/resume/sync, unmap. */
export function mappingsRouter(deps: Deps): Router {
  const { repos, dropbox, credentials, syncWorkflows, pathPolicy, log } = deps;
  const router = Router();

  const countsOf = async (mapping: Mapping): Promise<MappingCounts> => {
    const [files, rejections, contents] = await Promise.all([
      repos.files.countLive(mapping._id),
      repos.rejections.counts(mapping._id),
      repos.contents.counts(mapping._id),
    ]);
    const missingScope = mapping.contentScopeMissing === true;
    return {
      files,
      rejections: rejections.rejections,
      skippedFolders: rejections.skippedFolders,
      contents: shownContentCounts(contents, missingScope),
      ...(missingScope ? { missingContentScope: true } : {}),
    };
  };

  /**
   * A deletion of the connection that began while this mapping was being made (DELETE marks the
   * connection before counting its mappings): the mapping is taken back before its workflow
   * starts, so no mapping is left over a deleted connection.
   */
  async function takeBackIfConnectionLeaving(mapping: Mapping): Promise<void> {
    const connection = await repos.connections.getById(mapping.connectionId);
    const leaving = !connection || (connection.deletingUntil !== undefined && connection.deletingUntil > new Date());
    if (!leaving) return;
    await repos.mappings.deleteUnstarted(mapping._id);
    throw new ApiError(
      409,
      'connection_being_deleted',
      'The connection is being deleted; nothing was mapped. Map the folder with another connection, or try again if the deletion was refused.',
      { connectionId: mapping.connectionId },
    );
  }

  router.post(MAPPINGS_PATH, async (req, res) => {
    const project = projectOf(res);
    validate('query', noQuery, req.query);
    const body = validate('body', createMappingBody, req.body);
    const path = normalizeDropboxPath(body.dropboxPath);
    const problem = dropboxPathProblem(path);
    if (problem)
      throw new ApiError(400, 'invalid_path', `Field "dropboxPath" ${problem}`, { field: 'dropboxPath' });
    // One policy for both sides: the Dropbox folder, and the project's folder the files go to.
    const refused = [
      { field: 'dropboxPath', path, what: 'The folder path', fix: 'Rename the folder in Dropbox, or map another folder.' },
      { field: 'targetFolder', path: body.targetFolder ?? '', what: 'The target folder', fix: 'Choose a target folder name without them.' },
    ]
      .map((target) => ({ ...target, characters: pathPolicy.offendingPathCharacters(target.path) }))
      .find((target) => target.characters.length > 0);
    if (refused) {
      const { field, what, fix, characters } = refused;
      throw new ApiError(
        400,
        'special_characters',
        `${what} contains characters that are not transferred: ${describeCharacters(characters)}. ${fix}`,
        { field, characters },
      );
    }
    const connection = await findConnection(repos, project._id, body.connectionId);
    const folder = await dropbox
      .getFolder(await credentialsOf(connection, credentials), path)
      .catch((err: unknown) => dropboxFailure(err, 'stored', { field: 'dropboxPath', in: 'body' }));
    let mapping: Mapping;
    try {
      mapping = await repos.mappings.create({
        projectId: project._id,
        connectionId: connection._id,
        // Dropbox's own spelling of the path, whatever case the admin typed.
        dropboxPath: folder.pathDisplay || path,
        targetFolder: body.targetFolder ?? (folder.name || 'Dropbox'),
      });
    } catch (err) {
      if (!(err instanceof DuplicateError)) throw err;
      const existing = (await repos.mappings.listLiveByConnection(connection._id)).find(
        (m) => m.projectId === project._id && dropboxPathKey(m.dropboxPath) === dropboxPathKey(path),
      );
      // A retry after a failed start lands here: make sure the stored mapping's workflow runs.
      if (existing) await startMappingWorkflow(syncWorkflows, existing, log);
      throw new ApiError(
        409,
        'already_mapped',
        'This Dropbox folder is already mapped into the project with this connection',
        existing ? { mappingId: existing._id } : undefined,
      );
    }
    await takeBackIfConnectionLeaving(mapping);
    await startMappingWorkflow(syncWorkflows, mapping, log);
    log.info('mapping created', { projectId: project._id, mappingId: mapping._id });
    res.status(201).json(
      mappingView(mapping, {
        counts: {
          files: 0,
          rejections: 0,
          skippedFolders: 0,
          contents: { pending: 0, stored: 0, failed: 0 },
        },
      }),
    );
  });

  router.get(MAPPINGS_PATH, async (req, res) => {
    const project = projectOf(res);
    const { live } = validate('query', listMappingsQuery, req.query);
    const mappings = await repos.mappings.listByProject(project._id);
    // Asked a few at a time: a project maps each subfolder separately, so it may hold hundreds.
    // Each answer waits at most the status deadline; an unanswered mapping shows MongoDB's view.
    const slots = createSlots(LIVE_STATUS_CONCURRENCY);
    const [counts, statuses] = await Promise.all([
      Promise.all(mappings.map((m) => countsOf(m))),
      Promise.all(
        mappings.map((m) => (live === 'true' && m.state !== 'unmapped' ? slots.run(() => syncWorkflows.status(m)) : null)),
      ),
    ]);
    res.json({ mappings: mappings.map((m, i) => mappingView(m, { counts: counts[i]!, status: statuses[i] ?? null })) });
  });

  router.get(`${MAPPINGS_PATH}/:mappingId`, async (req, res) => {
    const { projectId, mappingId } = validate('params', mappingParams, { ...req.params });
    validate('query', noQuery, req.query);
    const mapping = await findMapping(repos, projectId, mappingId);
    const [status, counts] = await Promise.all([
      mapping.state === 'unmapped' ? null : syncWorkflows.status(mapping),
      countsOf(mapping),
    ]);
    res.json(mappingView(mapping, { counts, status }));
  });

  for (const { action, command } of COMMANDS) {
    router.post(`${MAPPINGS_PATH}/:mappingId/${action}`, async (req, res) => {
      const { projectId, mappingId } = validate('params', mappingParams, { ...req.params });
      validate('query', noQuery, req.query);
      validate('body', noBody, req.body ?? {});
      const mapping = await findMapping(repos, projectId, mappingId);
      if (mapping.state === 'unmapped') {
        throw new ApiError(
          409,
          'mapping_unmapped',
          'The mapping was unmapped; create a new mapping to sync the folder again',
          {
            mappingId,
          },
        );
      }
      if (action === 'sync' && (await isPaused(mapping))) {
        // A paused workflow would hold the request until resumed; say so instead of a silent 202.
        throw new ApiError(
          409,
          'mapping_paused',
          'The mapping is paused; resume it to sync (resuming syncs at once)',
          {
            mappingId,
          },
        );
      }
      await signalMapping(syncWorkflows, mapping, command, log);
      const state =
        action === 'pause'
          ? 'paused'
          : action === 'resume' && mapping.state === 'paused'
            ? 'active'
            : mapping.state;
      res.status(202).json({ id: mapping._id, state, accepted: action });
    });
  }

  /**
   * The workflow's word, when it answers: it holds a pause or a resume before MongoDB does (the
   * workflow writes its state there after a task and an activity). Otherwise MongoDB's.
   */
  async function isPaused(mapping: Mapping): Promise<boolean> {
    const status = await syncWorkflows.status(mapping);
    return status ? status.state === 'paused' : mapping.state === 'paused';
  }

  router.delete(`${MAPPINGS_PATH}/:mappingId`, async (req, res) => {
    const { projectId, mappingId } = validate('params', mappingParams, { ...req.params });
    validate('query', noQuery, req.query);
    validate('body', noBody, req.body ?? {});
    const mapping = await findMapping(repos, projectId, mappingId);
    if (mapping.state !== 'unmapped') {
      // Signal first: if Temporal cannot take it, nothing changed and the admin can retry.
      await signalMapping(syncWorkflows, mapping, 'unmap', log);
      await repos.mappings.markUnmapped(mapping._id);
      log.info('mapping unmapped', { projectId, mappingId });
    }
    res.status(202).json({ id: mapping._id, state: 'unmapped', accepted: 'unmap' });
  });

  return router;
}
