/**
 * Every body, path parameter and query the API accepts, as strict zod schemas. The same schemas
 * validate requests and generate the OpenAPI document, so the two never disagree.
 *
 * Strict objects refuse unknown fields; every string has a length limit; ids must look like the
 * ids we generate. A MongoDB operator such as `{"$gt": ""}` is an object where a string belongs,
 * so it fails here and never reaches a query.
 */
import { z } from 'zod';
import { ID_PATTERN } from './ids';

// Patterns rather than refinements, so the OpenAPI document states the same rules. JSON Schema
// patterns are unanchored and ECMA-262, as JavaScript's: \S is what String#trim keeps.
// eslint-disable-next-line no-control-regex
const NO_CONTROL_CHARACTERS = /^[^\u0000-\u001f\u007f]*$/u;
const NOT_BLANK = /\S/u;

const id = (what: string) =>
  z.string().regex(ID_PATTERN, `must be ${what} id as the API returns it`).describe(`The ${what} id`);

const name = (what: string) =>
  z
    .string()
    // Limits apply to what is sent; the spaces around it are dropped afterwards.
    .max(200, 'must be at most 200 characters')
    .regex(NO_CONTROL_CHARACTERS, 'must not contain control characters')
    .regex(NOT_BLANK, 'must not be empty')
    .trim()
    .describe(`The ${what}'s name; spaces around it are dropped`);

// The document says `format: email` (RFC 5321), which caps the part before "@" at 64 characters.
const email = z
  .email('must be an email address')
  .max(254, 'must be at most 254 characters')
  .regex(/^[^@]{1,64}@/u, 'must have at most 64 characters before "@"');

// Dropbox paths are at most 4096 characters; "" and "/" both name the root.
// "" and "/" name the root; text that is only whitespace is a mistake, not the root.
const dropboxPath = z
  .string()
  .max(4096, 'must be at most 4096 characters')
  .regex(/^$|\S/u, 'must not be only whitespace; use "/" for the root');

// Dropbox access tokens are opaque; today's are ~150 characters, refresh-era ones longer.
const accessToken = z
  .string()
  .min(1, 'must not be empty')
  .max(4096, 'must be at most 4096 characters')
  .regex(/^[\x21-\x7e]+$/u, 'must be the token as Dropbox issued it (printable ASCII, no spaces)')
  .describe('A Dropbox access token with the files.metadata.read and account_info.read scopes');

/** Non-negative decimal integers in a query string, documented as the integers they are. */
const queryInteger = (min: number, max: number) =>
  z
    .string()
    .refine((v) => /^\d{1,7}$/u.test(v), 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`))
    .meta({ type: 'integer', minimum: min, maximum: max });

// --- path parameters -------------------------------------------------------------------------

export const orgParams = z.strictObject({ orgId: id('organization') });
export const projectParams = z.strictObject({ projectId: id('project') });
export const memberParams = z.strictObject({ projectId: id('project'), userId: id('user') });
export const connectionParams = z.strictObject({ projectId: id('project'), connectionId: id('connection') });
export const mappingParams = z.strictObject({ projectId: id('project'), mappingId: id('mapping') });
export const fileParams = mappingParams.extend({
  fileId: z
    .string()
    .regex(/^id:[A-Za-z0-9_-]{1,128}$/u, 'must be a file id as the API returns it (id:…)')
    .describe("The file's id, as `id` in the mapping's file list"),
});

export const contentLinkParams = z.strictObject({
  token: z.string().max(2048).describe('The signed token of a link from POST …/files/{fileId}/content-link'),
});

// --- management bodies -----------------------------------------------------------------------

const features = z.strictObject({
  dropbox: z.boolean().describe('Whether the organization may connect Dropbox accounts'),
});

export const createOrgBody = z.strictObject({
  name: name('organization'),
  features: features.describe('Features enabled for the organization'),
});

export const updateOrgBody = z
  .strictObject({ name: name('organization').optional(), features: features.optional() })
  .refine((b) => b.name !== undefined || b.features !== undefined, 'must change "name" or "features"')
  // The refinement, as the document states it: both fields are optional, one is needed.
  .meta({ minProperties: 1 });

export const createProjectBody = z.strictObject({ name: name('project') });

export const createUserBody = z.strictObject({ email: email.describe("The user's email address") });

export const PROJECT_ROLES = ['admin', 'member'] as const;
export const setMemberBody = z.strictObject({
  role: z.enum(PROJECT_ROLES).describe('admin: manages Dropbox connections and mappings; member: does not'),
});

// --- Dropbox bodies and queries --------------------------------------------------------------

const refreshToken = z
  .string()
  .min(1, 'must not be empty')
  .max(4096, 'must be at most 4096 characters')
  .regex(/^[\x21-\x7e]+$/u, 'must be the refresh token as Dropbox issued it (printable ASCII, no spaces)')
  .describe('A refresh token from an offline code flow of your own Dropbox app');

const appKey = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,200}$/u, 'must be the app key from the Dropbox App Console')
  .describe('The key of the Dropbox app the refresh token was issued to');

const appSecret = z
  .string()
  .min(1, 'must not be empty')
  .max(200, 'must be at most 200 characters')
  .describe('The app secret; leave it out for a refresh token issued to a PKCE flow');

/**
 * Either credential shape: an access token (the seed's form), or a refresh token with its app's
 * key (and secret, unless PKCE issued it). Validated as one strict object with a refinement, so
 * a wrong mix names the offending field; the document states the same rule as a oneOf of the
 * two strict shapes (JSON Schema cannot name fields, zod's union error could not either).
 */
const credentialFields = { accessToken: accessToken.optional(), refreshToken: refreshToken.optional(), appKey: appKey.optional(), appSecret: appSecret.optional() };

function oneCredentialShape(body: { accessToken?: string | undefined; refreshToken?: string | undefined; appKey?: string | undefined; appSecret?: string | undefined }, ctx: z.RefinementCtx) {
  if (body.accessToken !== undefined) {
    for (const field of ['refreshToken', 'appKey', 'appSecret'] as const) {
      if (body[field] !== undefined) ctx.addIssue({ code: 'custom', path: [field], message: 'must not be given with "accessToken"' });
    }
    return;
  }
  if (body.refreshToken === undefined) {
    ctx.addIssue({ code: 'custom', path: ['accessToken'], message: 'is required (or "refreshToken" with "appKey")' });
  } else if (body.appKey === undefined) {
    ctx.addIssue({ code: 'custom', path: ['appKey'], message: 'is required with "refreshToken"' });
  }
}

/** The two shapes as the document states them, each a strict object of its own. */
function credentialShapes(extra: z.core.$ZodLooseShape) {
  const shape = (fields: z.core.$ZodLooseShape) => {
    const { $schema: _ignored, ...rest } = z.toJSONSchema(z.strictObject({ ...extra, ...fields }), { io: 'input' });
    return rest;
  };
  return {
    oneOf: [
      shape({ accessToken }),
      shape({ refreshToken, appKey, appSecret: appSecret.optional() }),
    ],
  };
}

const clientIdentification = email.describe('The email address of the Dropbox account the token belongs to');

export const createConnectionBody = z
  .strictObject({ clientIdentification, ...credentialFields })
  .superRefine(oneCredentialShape)
  .meta(credentialShapes({ clientIdentification }));

export const replaceTokenBody = z
  .strictObject(credentialFields)
  .superRefine(oneCredentialShape)
  .meta(credentialShapes({}));

export const oauthStartBody = z.strictObject({
  clientIdentification: email.describe('The email address of the Dropbox account to connect'),
});

const oauthParam = z.string().max(2048, 'must be at most 2048 characters');
export const oauthCallbackQuery = z.strictObject({
  state: oauthParam.optional(),
  code: oauthParam.optional(),
  error: oauthParam.optional(),
  error_description: oauthParam.optional(),
});

export const browseFoldersQuery = z.strictObject({
  path: dropboxPath.optional().describe('The folder to list, e.g. /Projects; the root when left out'),
});

// A folder name: not empty, ".", "..", nor holding "/" or "\\".
const FOLDER_NAME = String.raw`(?:[^/\\.][^/\\]*|\.[^/\\.][^/\\]*|\.\.[^/\\]+)`;
// A folder inside the project ("Drawings/Structural"), never a path that could climb out of it;
// spaces around the whole are allowed, as they are trimmed.
const FOLDER_PATH = new RegExp(String.raw`^\s*(?=\S)${FOLDER_NAME}(?:/${FOLDER_NAME})*(?<=\S)\s*$`, 'u');

export const targetFolder = z
  .string()
  .max(255, 'must be at most 255 characters')
  .regex(NO_CONTROL_CHARACTERS, 'must not contain control characters')
  .regex(FOLDER_PATH, 'must be folder names separated by "/", without "\\", empty, "." or ".." parts')
  .trim();

export const createMappingBody = z.strictObject({
  connectionId: id('connection'),
  dropboxPath: dropboxPath.describe('The Dropbox folder to sync, e.g. /Projects/Site A; "/" is the root'),
  targetFolder: targetFolder
    .optional()
    .describe(
      'The project folder the files go to; the Dropbox folder\'s name (or "Dropbox" for the root) by default',
    ),
});

const after = z.string().min(1).max(1024, 'must be at most 1024 characters');

export const listFilesQuery = z.strictObject({
  limit: queryInteger(1, 1000).optional().describe('Files per page, 1 to 1000 (default 100)'),
  after: after
    .optional()
    .describe('The `next` value of the previous page of the same listing (anything else: 400)'),
  order: z
    .enum(['newest'])
    .optional()
    .describe("newest: by Dropbox's modification time, newest first; without it, a stable record order"),
  deleted: z
    .enum(['true', 'false'])
    .optional()
    .describe(
      'true: only the files deleted or moved away in Dropbox (kept, with their stored content); default: the files in the folder now',
    ),
});

export const listMappingsQuery = z.strictObject({
  live: z
    .enum(['true', 'false'])
    .optional()
    .describe(
      "true: each live mapping's status from its workflow, as GET one mapping gives it, asked a few at a time in one answer; " +
        'default: states from MongoDB only (live: false), the fastest answer',
    ),
});

export const REJECTION_KINDS = ['special_characters', 'subfolder', 'too_large'] as const;
export const listRejectionsQuery = z.strictObject({
  limit: queryInteger(1, 1000).optional().describe('Entries per page, 1 to 1000 (default 100)'),
  after: after.optional().describe('The `next` value of the previous page of the same listing (anything else: 400)'),
  kind: z.enum(REJECTION_KINDS).optional().describe('Only rejected names, or only skipped subfolders'),
});

/** Routes that take no query string still refuse one, so typos do not pass silently. */
export const noQuery = z.strictObject({});

/** Commands that take no body refuse one with fields in it (`{"path": …}` on sync does nothing). */
export const noBody = z.strictObject({});
