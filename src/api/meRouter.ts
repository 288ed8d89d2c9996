import { Router } from 'express';
import type { Membership, Organization, Project } from '../domain/types';
import { callerOf } from './auth';
import type { AppDeps } from './deps';
import { ApiError } from './errors';
import { noQuery } from './schemas';
import { validate } from './validate';

export const OAUTH_NOT_CONFIGURED =
  'The service has no Dropbox app of its own (DROPBOX_APP_KEY is not set): ' +
  'connect with a client identification and an access token instead.';

/**
 * "Connect with Dropbox" is offered where the service's own Dropbox app is configured: its key is
 * enough, as for `oauth/start` (PKCE needs no secret; the secret verifies webhooks).
 */
export function dropboxOAuthOf(config: AppDeps['config']): { enabled: boolean; reason?: string } {
  return config.dropbox?.appKey ? { enabled: true } : { enabled: false, reason: OAUTH_NOT_CONFIGURED };
}

function projectEntry(membership: Membership, project: Project, org: Organization | null) {
  return {
    id: project._id,
    name: project.name,
    role: membership.role,
    organization: {
      id: project.orgId,
      name: org?.name ?? null,
      features: { dropbox: org?.features.dropbox ?? false },
    },
  };
}

/**
 * `GET /v1/me`: who the key belongs to and what the admin page needs to draw itself: the
 * projects with the caller's role and whether each organization has the Dropbox feature, whether
 * "Connect with Dropbox" is available, the special-character policy and the Temporal Web UI.
 */
export function meRouter(deps: Pick<AppDeps, 'repos' | 'config' | 'pathPolicy'>): Router {
  const { repos, config, pathPolicy } = deps;
  const router = Router();

  router.get('/v1/me', async (req, res) => {
    validate('query', noQuery, req.query);
    const caller = callerOf(res);
    if (caller.kind !== 'user') {
      throw new ApiError(403, 'forbidden', "The root key is not a user's key; sign in with a user's API key");
    }
    const memberships = await repos.memberships.listByUser(caller.user._id);
    const projects = await Promise.all(memberships.map((m) => repos.projects.get(m.projectId)));
    const orgIds = [...new Set(projects.flatMap((p) => (p ? [p.orgId] : [])))];
    const orgs = new Map(
      (await Promise.all(orgIds.map((id) => repos.orgs.get(id)))).flatMap((o) => (o ? [[o._id, o] as const] : [])),
    );
    res.json({
      id: caller.user._id,
      email: caller.user.email,
      projects: memberships
        .flatMap((m, i) => {
          const project = projects[i];
          return project ? [projectEntry(m, project, orgs.get(project.orgId) ?? null)] : [];
        })
        .sort((a, b) => a.name.localeCompare(b.name)),
      dropboxOAuth: dropboxOAuthOf(config),
      // The configured set; control characters (U+0000–U+001F, U+007F) are refused as well.
      specialCharacters: [...new Set(Array.from(pathPolicy.characters))].filter((c) => c !== '/'),
      temporalUi: config.temporalUi ?? null,
    });
  });

  return router;
}
