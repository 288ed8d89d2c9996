/**
 * Every route of the API, described once: what it takes (the validation schemas themselves),
 * what it answers, and which error codes it can give. openapi.ts turns this into the document.
 */
import type { z } from 'zod';
import * as req from './schemas';
import * as res from './responseSchemas';

export type Auth = 'none' | 'root' | 'admin';

export interface Operation {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** Express-style, e.g. /v1/orgs/:orgId */
  path: string;
  summary: string;
  description?: string;
  tag: 'Management' | 'Connections' | 'Mappings' | 'Health';
  auth: Auth;
  params?: z.ZodObject;
  query?: z.ZodType;
  body?: z.ZodType;
  success: { status: number; description: string; schema?: keyof typeof RESPONSES; binary?: true };
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
  Folders: res.foldersResponse,
  Mapping: res.mappingResponse,
  MappingList: res.mappingListResponse,
  CommandAccepted: res.commandAcceptedResponse,
  Files: res.filesResponse,
  Rejections: res.rejectionsResponse,
  Health: res.healthResponse,
  Readiness: res.readinessResponse,
} as const;

const P = '/v1/projects/:projectId/dropbox';
const TOKEN_ERRORS = ['invalid_token', 'expired_token', 'missing_scope', 'access_denied'];
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
      description: 'Ready; 503 with the same body names the failed dependency',
      schema: 'Readiness',
    },
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
      'Validates the token against Dropbox before anything is stored: it must be valid, unexpired, carry the files.metadata.read scope, and belong to the account whose email is the client identification.',
    params: req.projectParams,
    query: req.noQuery,
    body: req.createConnectionBody,
    success: {
      status: 201,
      description: 'Connected (with warnings, e.g. missing_content_scope)',
      schema: 'ConnectionSaved',
    },
    errors: { 422: [...TOKEN_ERRORS, 'identity_mismatch'], ...DROPBOX_DOWN },
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
    summary: "Replace a connection's access token",
    tag: 'Connections',
    auth: 'admin',
    description:
      "Validated as at login; the token must belong to the connection's Dropbox account. Mappings waiting for credentials retry at once.",
    params: req.connectionParams,
    query: req.noQuery,
    body: req.replaceTokenBody,
    success: {
      status: 200,
      description: 'Replaced (with warnings, e.g. missing_content_scope)',
      schema: 'ConnectionSaved',
    },
    errors: { 404: ['connection_not_found'], 422: [...TOKEN_ERRORS, 'identity_mismatch'], ...DROPBOX_DOWN },
  },
  {
    method: 'delete',
    path: `${P}/connections/:connectionId`,
    summary: 'Remove a connection',
    tag: 'Connections',
    auth: 'admin',
    params: req.connectionParams,
    query: req.noQuery,
    success: { status: 204, description: 'Removed' },
    errors: { 404: ['connection_not_found'], 409: ['connection_in_use'] },
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
      409: ['already_mapped'],
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
      'States come from MongoDB only (live: false) so the list stays fast; GET one mapping for its live status.',
    params: req.projectParams,
    query: req.noQuery,
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
];
