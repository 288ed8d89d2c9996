import { createHash, randomBytes } from 'node:crypto';
import { parse as parseCookies } from 'cookie';
import { Router, type Request, type Response } from 'express';
import { callerOf } from './auth';
import { checkCredentials, createConnection, replaceCredentials } from './connectionCredentials';
import type { AppDeps } from './deps';
import { DuplicateError } from '../db/errors';
import { DropboxRateLimitError, DropboxUnavailableError } from '../dropbox/errors';
import { DropboxGrantError } from '../dropbox/tokenEndpoint';
import { hashState } from '../db/oauthStatesRepository';
import { ApiError } from './errors';
import { adminProject, projectOf } from './projectAccess';
import { noQuery, oauthCallbackQuery, oauthStartBody } from './schemas';
import { validate } from './validate';

export const OAUTH_CALLBACK_PATH = '/v1/dropbox/oauth/callback';
const STATE_TTL_MS = 10 * 60_000;
/** The admin page; it reads `connection` or `error` from the query. */
const ADMIN_PAGE = '/';

type Deps = Pick<AppDeps, 'repos' | 'dropbox' | 'cipher' | 'credentials' | 'syncWorkflows' | 'config' | 'log'>;

const base64url = (bytes: Buffer) => bytes.toString('base64url');

/**
 * The round's cookie, one per round (two tabs may connect at once), sent only to the callback.
 * It binds the round to the browser that started it: without it, an admin could send anyone the
 * authorize link, and whoever clicked Allow would connect their Dropbox to that admin's project.
 */
const roundCookie = (state: string) => `dfs_oauth_${hashState(state).slice(0, 16)}`;

/** The key the starting browser was given for this round (its cookie), if this is that browser. */
function browserKeyOf(req: Request, state: string): string | undefined {
  return parseCookies(req.get('cookie') ?? '')[roundCookie(state)];
}

/**
 * "Connect with Dropbox": the code flow of the service's own app, with PKCE (S256) and offline
 * access, so a connection holds a refresh token. The state is random, single use, bound to the
 * project and the admin, and stored only as its hash; the PKCE verifier is stored sealed.
 */
export function oauthStartRouter(deps: Deps): Router {
  const router = Router();
  router.post('/v1/projects/:projectId/dropbox/oauth/start', async (req, res) => {
    const project = projectOf(res);
    validate('query', noQuery, req.query);
    const body = validate('body', oauthStartBody, req.body);
    const app = appOf(deps);
    const caller = callerOf(res);
    if (caller.kind !== 'user') throw new ApiError(403, 'forbidden', 'Only a project admin may connect Dropbox');
    const state = base64url(randomBytes(32));
    const verifier = base64url(randomBytes(48));
    const browserKey = base64url(randomBytes(32));
    const now = new Date();
    const expiresAt = new Date(now.getTime() + STATE_TTL_MS);
    await deps.repos.oauthStates.create(
      state,
      {
        projectId: project._id,
        userId: caller.user._id,
        clientIdentification: body.clientIdentification,
        codeVerifier: deps.cipher.seal(verifier, { oauthRound: hashState(state) }),
        browserKeyHash: hashState(browserKey),
        expiresAt,
      },
      now,
    );
    const url = new URL('/oauth2/authorize', app.oauthUrl);
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: app.appKey,
      redirect_uri: app.redirectUri,
      state,
      code_challenge: base64url(createHash('sha256').update(verifier).digest()),
      code_challenge_method: 'S256',
      token_access_type: 'offline',
    }).toString();
    res.cookie(roundCookie(state), browserKey, {
      httpOnly: true,
      sameSite: 'lax', // sent on Dropbox's redirect, a top-level GET
      secure: new URL(app.redirectUri).protocol === 'https:',
      path: OAUTH_CALLBACK_PATH,
      maxAge: STATE_TTL_MS,
    });
    res.json({ authorizeUrl: url.toString(), expiresAt: expiresAt.toISOString() });
  });
  return router;
}

/** Dropbox sends the browser here; no API key: the state authenticates, and is checked first. */
export function oauthCallbackRouter(deps: Deps): Router {
  const router = Router();
  router.get(OAUTH_CALLBACK_PATH, async (req, res) => {
    const query = validate('query', oauthCallbackQuery, req.query);
    // Taken only by the browser that started the round: a state alone (a link seen elsewhere)
    // neither finishes the round nor uses it up.
    const browserKey = query.state ? browserKeyOf(req, query.state) : undefined;
    const round = query.state && browserKey ? await deps.repos.oauthStates.take(query.state, browserKey) : null;
    if (query.state && round) res.clearCookie(roundCookie(query.state), { path: OAUTH_CALLBACK_PATH });
    if (!round) {
      throw new ApiError(
        400,
        'invalid_oauth_state',
        'This Dropbox sign-in link is unknown, already used, expired (they last ten minutes) or was started in another browser; start "Connect with Dropbox" again.',
      );
    }
    if (query.error !== undefined || query.code === undefined) {
      return backToAdminPage(res, round.projectId, { error: query.error === 'access_denied' ? 'access_denied' : 'dropbox_error' });
    }
    // The grant Dropbox made, until a connection holds it: a round that fails after the exchange
    // revokes it, so the account is not left with a live grant to an app that keeps nothing.
    let unkept: string | undefined;
    try {
      // Still the help page's rule at the end of the round: an admin, and the feature on.
      await adminProject(deps.repos, round.projectId, round.userId);
      const app = appOf(deps);
      const grant = await deps.dropbox.exchangeCode({
        code: query.code,
        redirectUri: app.redirectUri,
        codeVerifier: deps.cipher.open(round.codeVerifier, { oauthRound: round._id }),
        appKey: app.appKey,
      });
      unkept = grant.accessToken;
      if (!grant.refreshToken) throw new ApiError(502, 'dropbox_error', 'Dropbox issued no refresh token');
      // As at login: one refresh proves the refresh token, then scope and identity are checked.
      const checked = await checkCredentials(deps.dropbox, { refreshToken: grant.refreshToken, appKey: app.appKey });
      if (checked.account.email.toLowerCase() !== round.clientIdentification.toLowerCase()) {
        throw new ApiError(422, 'identity_mismatch', 'Dropbox signed in another account than the client identification');
      }
      // From here the grant may be stored (a write that fails may still have landed): never revoked.
      unkept = undefined;
      // The account connected already (or by a request that won the race): new credentials for it.
      const connected = () => deps.repos.connections.findByAccount(round.projectId, checked.account.accountId);
      const existing = await connected();
      const connection = existing
        ? await replaceCredentials(deps, existing, checked)
        : await createConnection(deps, round.projectId, round.clientIdentification, checked).catch(
            async (err: unknown) => {
              const winner = err instanceof DuplicateError ? await connected() : null;
              if (!winner) throw err;
              return replaceCredentials(deps, winner, checked);
            },
          );
      return backToAdminPage(res, round.projectId, { connection: connection._id });
    } catch (err) {
      const code = callbackFailure(err);
      deps.log.warn('dropbox oauth callback failed', { projectId: round.projectId, code, error: err as Error });
      if (unkept) {
        await deps.dropbox.revokeToken(unkept).catch((revokeErr: unknown) =>
          deps.log.warn('dropbox oauth grant not revoked', { projectId: round.projectId, error: revokeErr as Error }),
        );
      }
      return backToAdminPage(res, round.projectId, { error: code });
    }
  });
  return router;
}

/** The code the admin page is sent back with: what went wrong, not a guess that Dropbox was down. */
function callbackFailure(err: unknown): string {
  if (err instanceof ApiError) return err.code;
  if (err instanceof DropboxGrantError) return 'oauth_code_refused';
  // Dropbox down or asking us to slow down: the admin tries again later, nothing of ours failed.
  if (err instanceof DropboxUnavailableError || err instanceof DropboxRateLimitError) return 'dropbox_unavailable';
  return 'internal_error';
}

/** To the admin page, on the project the round started from, with what happened. */
function backToAdminPage(res: Response, projectId: string, params: Record<string, string>): void {
  const project = `#/projects/${encodeURIComponent(projectId)}`;
  res.redirect(303, `${ADMIN_PAGE}?${new URLSearchParams(params).toString()}${project}`);
}

function appOf(deps: Deps): { appKey: string; oauthUrl: string; redirectUri: string } {
  const { dropbox, publicUrl } = deps.config;
  if (!dropbox?.appKey || !publicUrl) {
    throw new ApiError(
      503,
      'oauth_not_configured',
      '"Connect with Dropbox" is off: the service has no Dropbox app. Set DROPBOX_APP_KEY (and PUBLIC_URL) and restart the API, ' +
        'or connect with an access token or your own app\'s refresh token through POST .../connections.',
    );
  }
  return { appKey: dropbox.appKey, oauthUrl: dropbox.oauthUrl, redirectUri: `${publicUrl}${OAUTH_CALLBACK_PATH}` };
}
