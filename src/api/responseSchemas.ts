/**
 * The shapes of the API's answers, for the OpenAPI document. views.ts builds them; a test
 * checks real answers against these so the document cannot drift from what is sent.
 */
import { z } from 'zod';
import { MAPPING_STATES } from '../domain/mappingState';
import { PROJECT_ROLES, REJECTION_KINDS } from './schemas';

const timestamp = z.iso.datetime().describe('ISO 8601 time, UTC');
const nullableTimestamp = timestamp.nullable();

export const errorResponse = z
  .object({
    error: z.object({
      code: z.string().describe('Stable, machine-readable code, e.g. invalid_token'),
      message: z.string().describe('What went wrong and what to do about it'),
      details: z.record(z.string(), z.unknown()).optional(),
    }),
  })
  .describe('Every error has this shape');

export const orgResponse = z.object({
  id: z.string(),
  name: z.string(),
  features: z.object({ dropbox: z.boolean() }),
  createdAt: timestamp,
  updatedAt: timestamp,
});

export const projectResponse = z.object({
  id: z.string(),
  orgId: z.string(),
  name: z.string(),
  createdAt: timestamp,
});

export const userCreatedResponse = z.object({
  id: z.string(),
  email: z.string(),
  apiKey: z.string().describe('Shown this once; only its SHA-256 hash is stored'),
});

export const membershipResponse = z.object({
  projectId: z.string(),
  userId: z.string(),
  role: z.enum(PROJECT_ROLES),
  updatedAt: timestamp,
});

export const connectionResponse = z
  .object({
    id: z.string(),
    projectId: z.string(),
    clientIdentification: z.string(),
    account: z.object({ id: z.string(), email: z.string(), name: z.string().nullable() }),
    team: z.boolean().describe('A Dropbox team account, whose paths start at the team root'),
    createdAt: timestamp,
    updatedAt: timestamp,
    tokenUpdatedAt: timestamp,
    credentialKind: z
      .enum(['access_token', 'refresh_token'])
      .describe('refresh_token: the product keeps the access token fresh; access_token: it ends when Dropbox ends it'),
    accessTokenExpiresAt: timestamp.nullable().describe('When the current access token expires, when known'),
    lastRefreshAt: timestamp.nullable().describe('When the access token was last refreshed'),
    warnings: z
      .array(z.object({ code: z.string(), message: z.string() }))
      .optional()
      .describe('On login and token replacement: e.g. short_lived_token, with how to connect with a refresh token instead'),
  })
  .describe('A Dropbox connection; no token, refresh token, app secret or PKCE verifier is ever returned');

export const oauthStartResponse = z.object({
  authorizeUrl: z.string().describe("Dropbox's consent page for the service's app; send the admin's browser there"),
  expiresAt: timestamp.describe('The round (its single-use state) ends ten minutes after it started'),
});

export const contentLinkResponse = z.object({
  url: z.string().describe("The file's content at a path of this service that needs no API key: navigate the browser there"),
  expiresAt: timestamp.describe('The link answers requests started in the next five minutes'),
});

export const connectionSavedResponse = connectionResponse
  .extend({
    warnings: z
      .array(z.object({ code: z.enum(['short_lived_token', 'missing_content_scope']), message: z.string() }))
      .describe(
        'Accepted, with something to fix: short_lived_token means Dropbox ends the token within four hours (connect with a refresh token instead); ' +
          'missing_content_scope means files are recorded but their contents cannot be copied',
      ),
  })
  .describe('The saved connection, with warnings about its token');

export const connectionListResponse = z.object({ connections: z.array(connectionResponse) });

export const foldersResponse = z.object({
  path: z.string(),
  folders: z.array(z.object({ name: z.string(), path: z.string() })),
});

const counts = z.object({
  files: z.number().int().describe('Files currently synced'),
  rejections: z
    .number()
    .int()
    .describe('Files not transferred: names with special characters, or larger than MAX_FILE_BYTES'),
  skippedFolders: z.number().int().describe('Subfolders seen and not synced'),
  contents: z
    .object({
      pending: z.number().int().describe('Files whose content is still being copied'),
      stored: z.number().int().describe('Files whose verified content can be downloaded'),
      failed: z
        .number()
        .int()
        .describe("Files whose content could not be copied (see each file's contentError)"),
    })
    .describe(
      "Synced files' versions by the state of their content: a file edited since its content was stored counts for its new version (pending or failed) and, for the version still served, as stored",
    ),
});

const contentProblem = z
  .object({ code: z.literal('missing_content_scope'), requiredScope: z.string(), message: z.string() })
  .nullable()
  .describe('Why contents cannot be copied, and what to do: the scope to add before replacing the token');

export const mappingResponse = z.object({
  id: z.string(),
  projectId: z.string(),
  connectionId: z.string(),
  dropboxPath: z.string(),
  targetFolder: z.string(),
  workflowId: z.string().describe('The Temporal workflow id, folder-sync-<mappingId>'),
  state: z.enum(MAPPING_STATES),
  lastSyncAt: nullableTimestamp,
  nextSyncAt: nullableTimestamp.describe('Known only from a live answer of the workflow'),
  lastError: z.string().nullable(),
  counts,
  contentProblem: contentProblem.optional(),
  live: z.boolean().describe('true: state and times come from the running workflow; false: from MongoDB'),
  createdAt: timestamp,
  updatedAt: timestamp,
});

export const mappingListResponse = z.object({ mappings: z.array(mappingResponse) });

export const commandAcceptedResponse = z.object({
  id: z.string(),
  state: z.enum(MAPPING_STATES).describe('The state the mapping is headed for'),
  accepted: z.enum(['pause', 'resume', 'sync', 'unmap']),
});

const next = z.string().nullable().describe('Pass as `after` for the next page; null on the last page');

export const fileResponse = z.object({
  id: z.string().describe('The fileId of the content route'),
  name: z.string(),
  path: z.string(),
  size: z.number().int(),
  dropboxId: z.string(),
  rev: z.string(),
  contentHash: z.string().nullable().describe("Dropbox's content hash of rev"),
  contentState: z
    .enum(['pending', 'stored', 'failed'])
    .describe('stored: the content of storedRev can be downloaded'),
  contentError: z
    .object({ reason: z.string(), message: z.string() })
    .nullable()
    .optional()
    .describe('failed only: hash_mismatch, missing_scope, too_large, not_found, not_downloadable (a Google Docs or Paper file: export it), restricted (Dropbox blocks its content)'),
  storedRev: z
    .string()
    .nullable()
    .describe('The rev whose verified content is stored (may trail rev while a new one is copied)'),
  serverModified: timestamp,
  syncedAt: timestamp,
  deletedAt: timestamp
    .nullable()
    .describe(
      'When a sync found the file deleted or moved away in Dropbox; null while it is in the folder. Its record and stored content stay.',
    ),
});

export const filesResponse = z.object({ files: z.array(fileResponse), next });

export const rejectionsResponse = z.object({
  rejections: z.array(
    z.object({
      kind: z.enum(REJECTION_KINDS),
      name: z.string(),
      path: z.string(),
      reason: z.string(),
      characters: z.array(z.string()).describe('The offending characters (special_characters only)'),
      hint: z.string().optional().describe('What to do about it (subfolder only)'),
      firstSeenAt: timestamp,
      lastSeenAt: timestamp,
    }),
  ),
  next,
});

export const healthResponse = z.object({ status: z.literal('ok') });

export const readinessResponse = z.object({
  status: z.enum(['ready', 'degraded', 'unavailable']),
  checks: z.object({ mongo: z.boolean(), temporal: z.boolean() }),
  failed: z.array(z.enum(['mongo', 'temporal'])).optional(),
});

export const meResponse = z.object({
  id: z.string(),
  email: z.string(),
  projects: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      role: z.enum(PROJECT_ROLES),
      organization: z.object({
        id: z.string(),
        name: z.string().nullable(),
        features: z.object({ dropbox: z.boolean() }),
      }),
    }),
  ),
  dropboxOAuth: z.object({
    enabled: z.boolean().describe('"Connect with Dropbox" is available: the service has a Dropbox app'),
    reason: z.string().optional().describe('Why not, when it is not'),
  }),
  specialCharacters: z
    .array(z.string())
    .describe('Characters not transferred in names; control characters are refused as well'),
  temporalUi: z
    .object({ url: z.string(), namespace: z.string() })
    .nullable()
    .describe("The Temporal Web UI, for links to a mapping's workflow"),
});
