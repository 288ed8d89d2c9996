/**
 * Every route of the API, described once: what it takes (the validation schemas themselves),
 * what it answers, and which error codes it can give. openapi.ts turns this into the document.
 */
import type { z } from 'zod';
import * as req from './schemas';
import * as res from './responseSchemas';
import { appKeyParams, challengeQuery, notificationBody } from './webhookRouter';

export type Auth = 'none' | 'root' | 'admin' | 'user';

export interface Operation {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** Express-style, e.g. /v1/orgs/:orgId */
  path: string;
  summary: string;
  description?: string;
  tag: 'Management' | 'Connections' | 'Mappings' | 'Health' | 'Webhooks' | 'Account';
  auth: Auth;
  params?: z.ZodObject;
  query?: z.ZodType;
  body?: z.ZodType;
  /** `schema` names a JSON body; `text` a text/plain one (the webhook challenge); `binary` a file's bytes. */
  success: { status: number; description: string; schema?: keyof typeof RESPONSES; text?: true; binary?: true };
  /** Status → the codes this route may answer with, beyond the common ones of its auth kind. */
  errors?: Record<number, string[]>;
}

export const RESPONSES = {
  Error: res.errorResponse,
  Organization: res.orgResponse,
  Project: res.projectResponse,
  CreatedUser: res.userCreatedResponse,
  Membership: res.membershipResponse,
  Connection: res.connectionResponse,
  ConnectionSaved: res.connectionSavedResponse,
  ConnectionList: res.connectionListResponse,
  OAuthStart: res.oauthStartResponse,
  ContentLink: res.contentLinkResponse,
  Folders: res.foldersResponse,
  Mapping: res.mappingResponse,
  MappingList: res.mappingListResponse,
  CommandAccepted: res.commandAcceptedResponse,
  Files: res.filesResponse,
  File: res.fileResponse,
  Rejections: res.rejectionsResponse,
  Health: res.healthResponse,
  Readiness: res.readinessResponse,
  Me: res.meResponse,
} as const;

const P = '/v1/projects/:projectId/dropbox';
const TOKEN_ERRORS = [
  'invalid_token',
  'expired_token',
  'missing_scope',
  'access_denied',
  'invalid_refresh_token',
  'invalid_app_credentials',
];
const DROPBOX_DOWN = { 502: ['dropbox_unavailable'], 503: ['dropbox_unavailable'] };
const STORED_TOKEN = { 422: [...TOKEN_ERRORS, 'token_unreadable'], ...DROPBOX_DOWN };

const command = (
  action: 'pause' | 'resume' | 'sync',
  summary: string,
  extra: Record<number, string[]> = {},
): Operation => ({
  method: 'post',
  path: `${P}/mappings/:mappingId/${action}`,
  summary,
  tag: 'Mappings',
  auth: 'admin',
  params: req.mappingParams,
  query: req.noQuery,
  success: { status: 202, description: 'The workflow took the signal', schema: 'CommandAccepted' },
  errors: {
    404: ['mapping_not_found'],
    409: ['mapping_unmapped', ...(extra[409] ?? [])],
    503: ['temporal_unavailable'],
  },
});

const webhook = (appKey: boolean): Operation[] => {
  const path = appKey ? '/v1/dropbox/webhook/:appKey' : '/v1/dropbox/webhook';
  const app = appKey ? "the admin's own app (the key in the path)" : 'the service\'s app (`DROPBOX_APP_SECRET`)';
  const params = appKey ? { params: appKeyParams } : {};
  return [
    {
      method: 'get',
      path,
      summary: `Dropbox webhook verification for ${appKey ? "an admin's own app" : "the service's app"}`,
      description: 'Dropbox calls it once when the URI is registered; answers the challenge as `text/plain` with `X-Content-Type-Options: nosniff`.',
      tag: 'Webhooks',
      auth: 'none',
      ...params,
      query: challengeQuery,
      success: { status: 200, description: 'The challenge, as text/plain', text: true },
      errors: { 400: ['invalid_request'] },
    },
    {
      method: 'post',
      path,
      summary: `Dropbox change notification for ${appKey ? "an admin's own app" : "the service's app"}`,
      description:
        `No API key: \`X-Dropbox-Signature\` must be the hex HMAC-SHA256 of the raw body under the secret of ${app}, ` +
        'otherwise 403 and nothing happens. Answered at once; then every active or failed mapping of each named account gets `syncNow`.',
      tag: 'Webhooks',
      auth: 'none',
      ...params,
      body: notificationBody,
      success: { status: 200, description: 'Verified; the mappings are signalled after the answer' },
      errors: { 400: ['invalid_request', 'invalid_json'], 403: ['invalid_signature'], 413: ['payload_too_large'] },
    },
  ];
};

export const OPERATIONS: Operation[] = [
  // --- health ---
  {
    method: 'get',
    path: '/healthz',
    summary: 'The process is up',
    tag: 'Health',
    auth: 'none',
    success: { status: 200, description: 'Always', schema: 'Health' },
  },
  {
    method: 'get',
    path: '/readyz',
    summary: 'MongoDB and Temporal are reachable',
    tag: 'Health',
    auth: 'none',
    success: {
      status: 200,
      description: 'Ready, or degraded (200: Temporal down, commands answer 503); 503 with the same body when MongoDB is down',
      schema: 'Readiness',
    },
  },
  {
    method: 'get',
    path: '/metrics',
    summary: 'Prometheus metrics',
    description:
      'Prometheus text format: mappings by state, sync cycles by outcome, files recorded and rejected, ' +
      'Dropbox calls by route and result, cycle start lag, token refreshes, and the process\'s own. ' +
      'No label holds a secret, a path, a file name or an id.',
    tag: 'Health',
    auth: 'none',
    success: { status: 200, description: 'The metrics (text/plain; version=0.0.4)', text: true },
  },
  // --- the caller ---
  {
    method: 'get',
    path: '/v1/me',
    summary: "The key's user, their projects and what the admin page needs",
    description:
      'Any user key (the root key is not a user: 403). Each project comes with the caller\'s role and whether its ' +
      'organization has the Dropbox feature; `dropboxOAuth.enabled` says whether "Connect with Dropbox" is available ' +
      '(with `reason` when not); `specialCharacters` is the configured policy (control characters are refused too); ' +
      '`temporalUi` is where the Temporal Web UI is, or null.',
    tag: 'Account',
    auth: 'user',
    query: req.noQuery,
    success: { status: 200, description: 'The caller', schema: 'Me' },
  },
  // --- management ---
  {
    method: 'post',
    path: '/v1/orgs',
    summary: 'Create an organization',
    tag: 'Management',
    auth: 'root',
    query: req.noQuery,
    body: req.createOrgBody,
    success: { status: 201, description: 'Created', schema: 'Organization' },
  },
  {
    method: 'patch',
    path: '/v1/orgs/:orgId',
    summary: 'Rename an organization or change its features',
    tag: 'Management',
    auth: 'root',
    params: req.orgParams,
    query: req.noQuery,
    body: req.updateOrgBody,
    success: { status: 200, description: 'Updated', schema: 'Organization' },
    errors: { 404: ['org_not_found'] },
  },
  {
    method: 'post',
    path: '/v1/orgs/:orgId/projects',
    summary: 'Create a project in an organization',
    tag: 'Management',
    auth: 'root',
    params: req.orgParams,
    query: req.noQuery,
    body: req.createProjectBody,
    success: { status: 201, description: 'Created', schema: 'Project' },
    errors: { 404: ['org_not_found'] },
  },
  {
    method: 'post',
    path: '/v1/users',
    summary: 'Create a user and their API key',
    tag: 'Management',
    auth: 'root',
    query: req.noQuery,
    body: req.createUserBody,
    success: {
      status: 201,
      description: 'Created; the key is shown only in this answer',
      schema: 'CreatedUser',
    },
    errors: { 409: ['email_taken'] },
  },
  {
    method: 'put',
    path: '/v1/projects/:projectId/members/:userId',
    summary: "Set a user's role in a project",
    tag: 'Management',
    auth: 'root',
    params: req.memberParams,
    query: req.noQuery,
    body: req.setMemberBody,
    success: { status: 200, description: 'The role is set', schema: 'Membership' },
    errors: { 404: ['project_not_found', 'user_not_found'] },
  },
  // --- connections ---
  {
    method: 'post',
    path: `${P}/connections`,
    summary: 'Connect a Dropbox account ("login")',
    tag: 'Connections',
    auth: 'admin',
    description:
      'Either {clientIdentification, accessToken} or {clientIdentification, refreshToken, appKey, appSecret?} (your own Dropbox app; no secret for a refresh token issued to PKCE). ' +
      'Validates against Dropbox before anything is stored: a refresh token by one refresh; the access token must be valid, unexpired, carry the files.metadata.read scope, and belong to the account whose email is the client identification. ' +
      'A short-lived access token (sl.…) is accepted with a short_lived_token warning.',
    params: req.projectParams,
    query: req.noQuery,
    body: req.createConnectionBody,
    success: {
      status: 201,
      description: 'Connected (with warnings, e.g. missing_content_scope)',
      schema: 'ConnectionSaved',
    },
    errors: { 409: ['already_connected'], 422: [...TOKEN_ERRORS, 'identity_mismatch'], ...DROPBOX_DOWN },
  },
  {
    method: 'get',
    path: `${P}/connections`,
    summary: "The project's Dropbox connections",
    tag: 'Connections',
    auth: 'admin',
    params: req.projectParams,
    query: req.noQuery,
    success: { status: 200, description: 'The list', schema: 'ConnectionList' },
  },
  {
    method: 'put',
    path: `${P}/connections/:connectionId/token`,
    summary: "Replace a connection's credentials",
    tag: 'Connections',
    auth: 'admin',
    description:
      "Either credential shape, validated as at login; it must belong to the connection's Dropbox account. Mappings waiting for credentials retry at once. " +
      'An access token does not replace a refresh token Dropbox still accepts (409 refresh_token_held).',
    params: req.connectionParams,
    query: req.noQuery,
    body: req.replaceTokenBody,
    success: {
      status: 200,
      description: 'Replaced (with warnings, e.g. missing_content_scope)',
      schema: 'ConnectionSaved',
    },
    errors: {
      404: ['connection_not_found'],
      409: ['refresh_token_held'],
      422: [...TOKEN_ERRORS, 'identity_mismatch'],
      ...DROPBOX_DOWN,
    },
  },
  {
    method: 'delete',
    path: `${P}/connections/:connectionId`,
    summary: 'Remove a connection',
    tag: 'Connections',
    auth: 'admin',
    params: req.connectionParams,
    query: req.noQuery,
    description: "Revokes the connection's tokens at Dropbox (best effort), then deletes it.",
    success: { status: 204, description: 'Removed' },
    errors: { 404: ['connection_not_found'], 409: ['connection_in_use', 'connection_being_deleted'] },
  },
  {
    method: 'post',
    path: `${P}/oauth/start`,
    summary: 'Start "Connect with Dropbox"',
    tag: 'Connections',
    auth: 'admin',
    description:
      "The code flow of the service's Dropbox app (DROPBOX_APP_KEY): PKCE (S256), token_access_type=offline, a single-use state bound to the project and the admin, ten minutes to live. " +
      'Dropbox sends the browser back to PUBLIC_URL + /v1/dropbox/oauth/callback.',
    params: req.projectParams,
    query: req.noQuery,
    body: req.oauthStartBody,
    success: { status: 200, description: 'Where to send the browser', schema: 'OAuthStart' },
    errors: { 503: ['oauth_not_configured'] },
  },
  {
    method: 'get',
    path: '/v1/dropbox/oauth/callback',
    summary: 'Where Dropbox sends the browser back',
    tag: 'Connections',
    auth: 'none',
    description:
      'No API key: the state authenticates, and is checked first. Exchanges the code (with the PKCE verifier), checks scope and identity as at login, stores the refresh token, ' +
      'creates the connection (or re-credentials the project\'s connection to the same account), then 303 to the admin page with connection=<id>, or error=<code> ' +
      '(access_denied, identity_mismatch, missing_scope, invalid_refresh_token, dropbox_unavailable, ...).',
    query: req.oauthCallbackQuery,
    success: { status: 303, description: 'To the admin page, with connection=<id> or error=<code> in the query' },
    errors: { 400: ['invalid_oauth_state', 'invalid_request'] },
  },
  {
    method: 'get',
    path: `${P}/connections/:connectionId/folders`,
    summary: 'Browse one level of Dropbox folders',
    tag: 'Connections',
    auth: 'admin',
    params: req.connectionParams,
    query: req.browseFoldersQuery,
    success: { status: 200, description: 'The folders directly inside `path`', schema: 'Folders' },
    errors: {
      400: ['invalid_path', 'not_a_folder'],
      404: ['connection_not_found', 'folder_not_found'],
      ...STORED_TOKEN,
    },
  },
  // --- mappings ---
  {
    method: 'post',
    path: `${P}/mappings`,
    summary: 'Map a Dropbox folder into the project',
    tag: 'Mappings',
    auth: 'admin',
    description:
      "Starts the folder's sync workflow. Only the files directly in the folder are synced. When the workflow cannot be started the answer is 503 temporal_unavailable and the mapping stays stored: the same request again answers 409 already_mapped and starts it.",
    params: req.projectParams,
    query: req.noQuery,
    body: req.createMappingBody,
    success: { status: 201, description: 'Mapped; the first sync starts at once', schema: 'Mapping' },
    errors: {
      400: ['invalid_path', 'special_characters', 'not_a_folder'],
      404: ['connection_not_found', 'folder_not_found'],
      409: ['already_mapped', 'connection_being_deleted', 'mapping_unmapped'],
      422: TOKEN_ERRORS,
      502: ['dropbox_unavailable'],
      503: ['dropbox_unavailable', 'temporal_unavailable'],
    },
  },
  {
    method: 'get',
    path: `${P}/mappings`,
    summary: "The project's mappings",
    tag: 'Mappings',
    auth: 'admin',
    description:
      'States come from MongoDB only (live: false) so the list stays fast; with live=true each live mapping also has what its workflow says ' +
      '(live: true), or its MongoDB view when the workflow did not answer in time (live: false).',
    params: req.projectParams,
    query: req.listMappingsQuery,
    success: { status: 200, description: 'The list', schema: 'MappingList' },
  },
  {
    method: 'get',
    path: `${P}/mappings/:mappingId`,
    summary: 'A mapping with its live status',
    tag: 'Mappings',
    auth: 'admin',
    description:
      "Asks the mapping's workflow (up to 2 s); when it cannot answer, MongoDB's view is returned with live: false.",
    params: req.mappingParams,
    query: req.noQuery,
    success: { status: 200, description: 'The mapping', schema: 'Mapping' },
    errors: { 404: ['mapping_not_found'] },
  },
  command('pause', 'Pause syncing'),
  command('resume', 'Resume syncing (syncs at once)'),
  command('sync', 'Sync now instead of at the next interval', { 409: ['mapping_paused'] }),
  {
    method: 'delete',
    path: `${P}/mappings/:mappingId`,
    summary: 'Unmap a folder',
    tag: 'Mappings',
    auth: 'admin',
    description:
      'The workflow ends cleanly and the folder can be mapped again. Synced files and rejections stay readable.',
    params: req.mappingParams,
    query: req.noQuery,
    success: { status: 202, description: 'Unmapped', schema: 'CommandAccepted' },
    errors: { 404: ['mapping_not_found'], 503: ['temporal_unavailable'] },
  },
  {
    method: 'get',
    path: `${P}/mappings/:mappingId/files`,
    summary: 'Synced files, a page at a time',
    tag: 'Mappings',
    auth: 'admin',
    params: req.mappingParams,
    query: req.listFilesQuery,
    success: { status: 200, description: 'A page', schema: 'Files' },
    errors: { 404: ['mapping_not_found'] },
  },
  {
    method: 'get',
    path: `${P}/mappings/:mappingId/files/:fileId`,
    summary: 'One synced file',
    tag: 'Mappings',
    auth: 'admin',
    description:
      "The file's record as `…/files` lists it (`:fileId` is its `id`): 404 file_not_found until a cycle has recorded it. The cheap way to wait for one file: a lookup by id, where a page of `…/files` reads the mapping's records.",
    params: req.fileParams,
    query: req.noQuery,
    success: { status: 200, description: 'The file', schema: 'File' },
    errors: { 404: ['mapping_not_found', 'file_not_found'] },
  },
  {
    method: 'get',
    path: `${P}/mappings/:mappingId/files/:fileId/content`,
    summary: "A synced file's content",
    tag: 'Mappings',
    auth: 'admin',
    description:
      "Streams the verified content of the file's stored rev (while a new rev is copied, the previous one) with Content-Type from its name, Content-Length, ETag (the quoted Dropbox content hash; If-None-Match answers 304) and Content-Disposition with the original name (RFC 6266, filename* for non-ASCII names). A single `Range: bytes=…` answers 206 with Content-Range, or 416 when it cannot be served.",
    params: req.fileParams,
    query: req.noQuery,
    success: { status: 200, description: 'The bytes (206 for a Range request)', binary: true },
    errors: {
      404: ['mapping_not_found', 'file_not_found'],
      409: ['content_pending', 'content_failed'],
      416: ['range_not_satisfiable'],
    },
  },
  {
    method: 'post',
    path: `${P}/mappings/:mappingId/files/:fileId/content-link`,
    summary: "A download link to a synced file's content",
    tag: 'Mappings',
    auth: 'admin',
    description:
      'A link that serves what GET …/content serves, without the API key, for five minutes: a browser navigating there ' +
      'streams the file to disk. Refused as the content route would refuse it (409 while not stored).',
    params: req.fileParams,
    query: req.noQuery,
    success: { status: 201, description: 'The link', schema: 'ContentLink' },
    errors: {
      404: ['mapping_not_found', 'file_not_found'],
      409: ['content_pending', 'content_failed'],
    },
  },
  {
    method: 'get',
    path: '/v1/content-links/:token',
    summary: "A synced file's content, by a download link",
    tag: 'Mappings',
    auth: 'none',
    description:
      'No API key: the signed token authenticates the request until it expires. Answers as GET …/files/{fileId}/content ' +
      '(Range, ETag, Content-Disposition); an expired link is 410, an unknown or altered one 404.',
    params: req.contentLinkParams,
    query: req.noQuery,
    success: { status: 200, description: 'The bytes (206 for a Range request)', binary: true },
    errors: {
      400: ['invalid_request'],
      404: ['content_link_not_found', 'mapping_not_found', 'file_not_found'],
      409: ['content_pending', 'content_failed'],
      410: ['content_link_expired'],
      416: ['range_not_satisfiable'],
    },
  },
  {
    method: 'get',
    path: `${P}/mappings/:mappingId/rejections`,
    summary: 'Rejected names and skipped subfolders',
    tag: 'Mappings',
    auth: 'admin',
    params: req.mappingParams,
    query: req.listRejectionsQuery,
    success: { status: 200, description: 'A page', schema: 'Rejections' },
    errors: { 404: ['mapping_not_found'] },
  },
  // --- Dropbox webhooks ---
  ...webhook(false),
  ...webhook(true),
];
