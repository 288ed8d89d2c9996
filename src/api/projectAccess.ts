import type { RequestHandler, Response } from 'express';
import type { Project } from '../domain/types';
import { callerOf } from './auth';
import type { ApiRepositories } from './deps';
import { ApiError } from './errors';
import { projectParams } from './schemas';
import { validate } from './validate';

export const FEATURE_DISABLED_MESSAGE =
  "Dropbox integration is not enabled for this project's organization. Contact your account contact to get the feature enabled.";

function forbidden(): ApiError {
  return new ApiError(
    403,
    'forbidden',
    "Only the project's admins may manage its Dropbox connections and mappings",
  );
}

type AccessRepositories = Pick<ApiRepositories, 'projects' | 'memberships' | 'orgs'>;

/**
 * The help page's rule for every Dropbox action: the user is an admin of this project, and the
 * project's organization has the Dropbox feature. An unknown project answers like a project the
 * caller may not see, so ids cannot be probed; the feature is only revealed to the project's admins.
 */
export async function adminProject(repos: AccessRepositories, projectId: string, userId: string): Promise<Project> {
  const [project, membership] = await Promise.all([
    repos.projects.get(projectId),
    repos.memberships.get(projectId, userId),
  ]);
  if (!project || membership?.role !== 'admin') throw forbidden();
  const org = await repos.orgs.get(project.orgId);
  if (!org) throw forbidden();
  if (!org.features.dropbox) throw featureDisabled();
  return project;
}

function featureDisabled(): ApiError {
  return new ApiError(403, 'feature_disabled', FEATURE_DISABLED_MESSAGE);
}

/**
 * For a route whose caller proved admin rights earlier (a download link): the organization must
 * still have the feature, as it must for every Dropbox route.
 */
export async function requireDropboxFeature(repos: Pick<ApiRepositories, 'projects' | 'orgs'>, projectId: string): Promise<void> {
  const project = await repos.projects.get(projectId);
  const org = project ? await repos.orgs.get(project.orgId) : null;
  if (!org?.features.dropbox) throw featureDisabled();
}

/** `adminProject` for every Dropbox route, the caller's. */
export function requireProjectAdmin(deps: { repos: AccessRepositories }): RequestHandler {
  return async (req, res, next) => {
    const caller = callerOf(res);
    // Only the project id is checked here: the route's own params are validated by its handler.
    const { projectId } = validate('params', projectParams, { projectId: req.params.projectId });
    if (caller.kind !== 'user') throw forbidden();
    res.locals.project = await adminProject(deps.repos, projectId, caller.user._id);
    next();
  };
}

export function projectOf(res: Response): Project {
  const project = res.locals.project as Project | undefined;
  if (!project) throw new Error('route reached without the project access check');
  return project;
}
