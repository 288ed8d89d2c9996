import { accountJson, type Account, type AccountRegistry, rootInfoJson } from './accounts';
import { checkArgs, checkNoArgs, type FieldType, optionalBool, parseJsonBody } from './apiArgs';
import type { CursorCodec } from './cursor';
import {
  badInput,
  DropboxApiError,
  invalidRoot,
  missingScope,
  noPermissionForRoot,
  pathError,
} from './errors';
import { continueListing, latestCursor, type ListingDeps, type ListOptions, startListing } from './listing';
import { deletedMetadata, metadataOf } from './metadata';
import { parseApiPath, type PathRef, splitPath } from './paths';
import type { FolderNode, Node } from './tree';

/** A /2/ call as the server received it. */
export interface ApiRequest {
  route: string;
  authorization: string | undefined;
  pathRoot: string | undefined;
  contentType: string | undefined;
  body: string;
}

export interface ApiDeps {
  accounts: AccountRegistry;
  codec: CursorCodec;
  headSeq(): number;
  /** /2/auth/token/revoke: ends the token, and its grant with every token issued from it. */
  revokeAccessToken(token: string): void;
}

interface RouteSpec {
  /** Absent: any valid token may call it. */
  scope?: string;
  run(account: Account, body: unknown, deps: ApiDeps, route: string, token: string): unknown;
}

const LIST_FIELDS: Record<string, FieldType> = {
  path: 'string',
  recursive: 'bool',
  include_media_info: 'bool',
  include_deleted: 'bool',
  include_has_explicit_shared_members: 'bool',
  include_mounted_folders: 'bool',
  limit: 'uint32',
  shared_link: 'object',
  include_property_groups: 'object',
  include_non_downloadable_files: 'bool',
};

const METADATA_FIELDS: Record<string, FieldType> = {
  path: 'string',
  include_media_info: 'bool',
  include_deleted: 'bool',
  include_has_explicit_shared_members: 'bool',
  include_property_groups: 'object',
};

/** The routes the product uses, with the scope each one needs. */
export const API_ROUTES: Record<string, RouteSpec> = {
  'auth/token/revoke': {
    run: (_account, body, deps, route, token) => {
      checkNoArgs(route, body);
      deps.revokeAccessToken(token);
      return null;
    },
  },
  'users/get_current_account': {
    scope: 'account_info.read',
    run: (account, body, _deps, route) => {
      checkNoArgs(route, body);
      return accountJson(account);
    },
  },
  'files/list_folder': {
    scope: 'files.metadata.read',
    run: (account, body, deps, route) => {
      const { folder, options } = listArgs(account, body, route);
      return startListing(account, folder, options, listingDeps(deps));
    },
  },
  'files/list_folder/get_latest_cursor': {
    scope: 'files.metadata.read',
    run: (account, body, deps, route) => {
      const { folder, options } = listArgs(account, body, route);
      return latestCursor(account, folder, options, listingDeps(deps));
    },
  },
  'files/list_folder/continue': {
    scope: 'files.metadata.read',
    run: (account, body, deps, route) => {
      const args = checkArgs(route, body, { cursor: 'string' }, ['cursor']);
      const state = deps.codec.decode(args['cursor'] as string);
      if (!state) throw badInput(route, 'request body: cursor: invalid cursor');
      if (state.a !== account.accountId)
        throw badInput(route, 'request body: cursor: cursor belongs to another user');
      return continueListing(account, state, listingDeps(deps));
    },
  },
  'files/get_metadata': {
    scope: 'files.metadata.read',
    run: (account, body, _deps, route) => {
      const args = checkArgs(route, body, METADATA_FIELDS, ['path']);
      const ref = parseApiPath(route, args['path'], { allowRoot: false });
      const node = resolve(account, ref);
      // Dropbox keeps no metadata for a root; "" is refused by the pattern, "ns:<id>" here.
      if (node === account.tree.root)
        throw badInput(route, 'request body: path: the root folder has no metadata');
      if (node) return metadataOf(node);
      if (optionalBool(args, 'include_deleted', false) && ref.kind !== 'id') {
        const rec = account.tree.log.get(ref.lower);
        if (rec && 'deleted' in rec.value) return deletedMetadata(rec.value.deleted);
        if (rec) return deletedMetadata({ name: splitPath(ref.display).name, pathDisplay: ref.display });
      }
      throw pathError('not_found');
    },
  },
};

/** Authenticates, checks scope, path root and arguments, and runs the route. Throws Dropbox's errors. */
export function handleApiCall(request: ApiRequest, deps: ApiDeps): unknown {
  const { route } = request;
  const spec = API_ROUTES[route];
  if (!spec) throw new DropboxApiError(404, `Unknown API function: "${route}"`);
  const token = bearerToken(route, request.authorization);
  const { account, scopes } = deps.accounts.authenticate(token);
  if (spec.scope !== undefined && !scopes.has(spec.scope)) throw missingScope(spec.scope);
  checkPathRoot(route, request.pathRoot, account);
  return spec.run(account, parseJsonBody(route, request.body, request.contentType), deps, route, token);
}

/** The token in `Authorization: Bearer ...`, or Dropbox's 400 for a missing or odd header. */
export function bearerToken(route: string, authorization: string | undefined): string {
  if (!authorization) {
    throw badInput(route, 'Must provide HTTP header "Authorization" or URL parameter "authorization".');
  }
  const match = /^Bearer\s+(\S+)\s*$/iu.exec(authorization);
  if (!match) {
    throw badInput(
      route,
      `Invalid authorization value in HTTP header "Authorization": "${authorization.slice(0, 20)}".  Expecting "Bearer <oauth2-access-token>".`,
    );
  }
  const token = match[1] as string;
  // Dropbox answers a value that cannot be a token at all with a 400, not a 401 (which is for
  // one that looks like a token it does not know).
  if (!LOOKS_LIKE_A_TOKEN.test(token)) throw badInput(route, 'The given OAuth 2 access token is malformed.');
  return token;
}

/** Dropbox's tokens are long runs of base64-ish characters ("sl." and the like included). */
const LOOKS_LIKE_A_TOKEN = /^[A-Za-z0-9._~+/=-]{16,}$/u;

function listingDeps(deps: ApiDeps): ListingDeps {
  return { codec: deps.codec, headSeq: deps.headSeq };
}

function listArgs(
  account: Account,
  body: unknown,
  route: string,
): { folder: FolderNode; options: ListOptions } {
  const args = checkArgs(route, body, LIST_FIELDS, ['path']);
  const ref = parseApiPath(route, args['path'], { allowRoot: true });
  const limit = args['limit'];
  if (typeof limit === 'number' && (limit < 1 || limit > 2000)) {
    throw badInput(route, `request body: limit: ${limit} is not within the range [1, 2000]`);
  }
  const node = resolve(account, ref);
  if (!node) throw pathError('not_found');
  if (node.kind !== 'folder') throw pathError('not_folder');
  return {
    folder: node,
    options: {
      recursive: optionalBool(args, 'recursive', false),
      includeDeleted: optionalBool(args, 'include_deleted', false),
      includeNonDownloadable: optionalBool(args, 'include_non_downloadable_files', true),
      limit: typeof limit === 'number' ? limit : 2000,
    },
  };
}

export function resolve(account: Account, ref: PathRef): Node | undefined {
  const { tree } = account;
  if (ref.kind === 'id') return tree.lookupId(ref.id);
  if (
    ref.kind === 'ns' &&
    ref.namespaceId !== account.rootNamespaceId &&
    ref.namespaceId !== account.homeNamespaceId
  ) {
    return undefined;
  }
  return ref.lower === '' ? tree.root : tree.lookup(ref.lower);
}

/**
 * Dropbox-API-Path-Root: "home" is always fine; "root" must name the account's current root
 * namespace (422 invalid_root with the current root info otherwise); "namespace_id" must be one
 * the account can reach (422 no_permission). Team and personal roots resolve in one tree here.
 */
export function checkPathRoot(route: string, header: string | undefined, account: Account): void {
  if (header === undefined) return;
  let root: Record<string, unknown>;
  try {
    root = JSON.parse(header) as Record<string, unknown>;
  } catch {
    throw badInput(
      route,
      `Invalid value in HTTP header "Dropbox-API-Path-Root": could not decode input as JSON`,
    );
  }
  const tag = typeof root === 'object' && root !== null ? root['.tag'] : undefined;
  const reachable = [account.rootNamespaceId, account.homeNamespaceId];
  if (tag === 'home') return;
  if (tag === 'root') {
    if (root['root'] !== account.rootNamespaceId) throw invalidRoot(rootInfoJson(account));
    return;
  }
  if (tag === 'namespace_id') {
    if (!reachable.includes(String(root['namespace_id']))) throw noPermissionForRoot();
    return;
  }
  throw badInput(route, `Invalid value in HTTP header "Dropbox-API-Path-Root": unknown tag '${String(tag)}'`);
}
