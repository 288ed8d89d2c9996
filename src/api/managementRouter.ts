import { Router } from 'express';
import { DuplicateError, NotFoundError } from '../db/errors';
import { createSlots } from '../slots';
import { requireRoot } from './auth';
import type { AppDeps } from './deps';
import { ApiError } from './errors';
import {
  createOrgBody,
  createProjectBody,
  createUserBody,
  memberParams,
  noQuery,
  orgParams,
  setMemberBody,
  updateOrgBody,
} from './schemas';
import { MappingWorkflowEndedError } from './syncWorkflows';
import { validate } from './validate';
import { membershipView, orgView, projectView } from './views';

function orgNotFound(orgId: string): ApiError {
  return new ApiError(404, 'org_not_found', `There is no organization ${orgId}`, { orgId });
}

/** Workflows told at once when an organization gets the Dropbox feature back. */
const WAKE_CONCURRENCY = 16;

/** Organizations, projects, users and roles: the root key's routes. */
export function managementRouter(deps: Pick<AppDeps, 'repos' | 'log' | 'syncWorkflows'>): Router {
  const { repos, log } = deps;

  /**
   * The organization's mappings that stopped for want of the feature sync now, not at their next
   * cycle. A signal that fails is only logged: the mapping's timer syncs it within a poll interval.
   */
  async function wakeFeatureDisabled(orgId: string): Promise<number> {
    const projectIds = await repos.projects.listIdsByOrg(orgId);
    const waiting = await repos.mappings.listInStateByProjects(projectIds, 'feature_disabled');
    const slots = createSlots(WAKE_CONCURRENCY);
    const told = await Promise.all(
      waiting.map((mapping) =>
        slots.run(() => deps.syncWorkflows.signal(mapping, 'syncNow')).then(
          () => true,
          (err: unknown) => {
            if (!(err instanceof MappingWorkflowEndedError)) {
              log.warn('syncNow after the Dropbox feature was enabled failed', {
                mappingId: mapping._id,
                error: (err as Error).message,
              });
            }
            return false;
          },
        ),
      ),
    );
    return told.filter(Boolean).length;
  }

  const router = Router();
  const root = requireRoot();

  router.post('/v1/orgs', root, async (req, res) => {
    validate('query', noQuery, req.query);
    const body = validate('body', createOrgBody, req.body);
    const org = await repos.orgs.create(body);
    log.info('organization created', { orgId: org._id, dropbox: org.features.dropbox });
    res.status(201).json(orgView(org));
  });

  router.patch('/v1/orgs/:orgId', root, async (req, res) => {
    const { orgId } = validate('params', orgParams, { ...req.params });
    validate('query', noQuery, req.query);
    const body = validate('body', updateOrgBody, req.body);
    const org = await repos.orgs
      .update(orgId, {
        ...(body.name !== undefined ? { name: body.name } : {}),
        ...(body.features !== undefined ? { features: body.features } : {}),
      })
      .catch((err: unknown) => {
        throw err instanceof NotFoundError ? orgNotFound(orgId) : err;
      });
    const woken = body.features?.dropbox === true ? await wakeFeatureDisabled(orgId) : 0;
    log.info('organization updated', { orgId, dropbox: org.features.dropbox, ...(woken > 0 ? { mappingsWoken: woken } : {}) });
    res.json(orgView(org));
  });

  router.post('/v1/orgs/:orgId/projects', root, async (req, res) => {
    const { orgId } = validate('params', orgParams, { ...req.params });
    validate('query', noQuery, req.query);
    const body = validate('body', createProjectBody, req.body);
    if (!(await repos.orgs.get(orgId))) throw orgNotFound(orgId);
    const project = await repos.projects.create({ orgId, name: body.name });
    log.info('project created', { orgId, projectId: project._id });
    res.status(201).json(projectView(project));
  });

  router.post('/v1/users', root, async (req, res) => {
    validate('query', noQuery, req.query);
    const body = validate('body', createUserBody, req.body);
    try {
      const { user, apiKey } = await repos.users.create({ email: body.email });
      log.info('user created', { userId: user._id });
      // The only time the key is shown: the store keeps its hash.
      res.status(201).json({ id: user._id, email: user.email, apiKey });
    } catch (err) {
      if (err instanceof DuplicateError) {
        throw new ApiError(409, 'email_taken', 'A user with this email already exists', { field: 'email' });
      }
      throw err;
    }
  });

  router.put('/v1/projects/:projectId/members/:userId', root, async (req, res) => {
    const { projectId, userId } = validate('params', memberParams, { ...req.params });
    validate('query', noQuery, req.query);
    const body = validate('body', setMemberBody, req.body);
    const [project, user] = await Promise.all([repos.projects.get(projectId), repos.users.get(userId)]);
    if (!project)
      throw new ApiError(404, 'project_not_found', `There is no project ${projectId}`, { projectId });
    if (!user) throw new ApiError(404, 'user_not_found', `There is no user ${userId}`, { userId });
    const membership = await repos.memberships.set(projectId, userId, body.role);
    log.info('project role set', { projectId, userId, role: body.role });
    res.json(membershipView(membership));
  });

  return router;
}
