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

// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/u;

const id = (what: string) =>
  z.string().regex(ID_PATTERN, `must be ${what} id as the API returns it`).describe(`The ${what} id`);

const name = (what: string) =>
  z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(200, 'must be at most 200 characters')
    .refine((v) => !CONTROL_CHARACTERS.test(v), 'must not contain control characters')
    .describe(`The ${what}'s name`);

const email = z.email('must be an email address').max(254, 'must be at most 254 characters');

// Dropbox paths are at most 4096 characters; "" and "/" both name the root.
// "" and "/" name the root; text that is only whitespace is a mistake, not the root.
const dropboxPath = z
  .string()
  .max(4096, 'must be at most 4096 characters')
  .refine((v) => v === '' || v.trim() !== '', 'must not be only whitespace; use "/" for the root');

// Dropbox access tokens are opaque; today's are ~150 characters, refresh-era ones longer.
const accessToken = z
  .string()
  .min(1, 'must not be empty')
  .max(4096, 'must be at most 4096 characters')
  .regex(/^[\x21-\x7e]+$/u, 'must be the token as Dropbox issued it (printable ASCII, no spaces)')
  .describe('A Dropbox access token with the files.metadata.read and account_info.read scopes');

/** Non-negative decimal integers in a query string. */
const queryInteger = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d{1,7}$/u, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));

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
  .refine((b) => b.name !== undefined || b.features !== undefined, 'must change "name" or "features"');

export const createProjectBody = z.strictObject({ name: name('project') });

export const createUserBody = z.strictObject({ email: email.describe("The user's email address") });

export const PROJECT_ROLES = ['admin', 'member'] as const;
export const setMemberBody = z.strictObject({
  role: z.enum(PROJECT_ROLES).describe('admin: manages Dropbox connections and mappings; member: does not'),
});

// --- Dropbox bodies and queries --------------------------------------------------------------

export const createConnectionBody = z.strictObject({
  clientIdentification: email.describe('The email address of the Dropbox account the token belongs to'),
  accessToken,
});

export const replaceTokenBody = z.strictObject({ accessToken });

export const browseFoldersQuery = z.strictObject({
  path: dropboxPath.optional().describe('The folder to list, e.g. /Projects; the root when left out'),
});

export const targetFolder = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(255, 'must be at most 255 characters')
  .refine((v) => !CONTROL_CHARACTERS.test(v), 'must not contain control characters')
  // A folder inside the project ("Drawings/Structural"), never a path that could climb out of it.
  .refine(
    (v) => !v.includes('\\') && v.split('/').every((segment) => segment !== '' && segment !== '.' && segment !== '..'),
    'must be folder names separated by "/", without "\\", empty, "." or ".." parts',
  );

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
  after: after.optional().describe('The `next` value of the previous page'),
});

export const REJECTION_KINDS = ['special_characters', 'subfolder', 'too_large'] as const;
export const listRejectionsQuery = z.strictObject({
  limit: queryInteger(1, 1000).optional().describe('Entries per page, 1 to 1000 (default 100)'),
  after: after.optional().describe('The `next` value of the previous page'),
  kind: z.enum(REJECTION_KINDS).optional().describe('Only rejected names, or only skipped subfolders'),
});

/** Routes that take no query string still refuse one, so typos do not pass silently. */
export const noQuery = z.strictObject({});
