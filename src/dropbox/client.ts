import { Dropbox, type files } from 'dropbox';
import type { ListedFile, ListedFolder, ListedPage } from '../domain/types';
import { countDropboxCall } from '../metrics';
import { type Download, downloadFile, type DownloadRequest } from './download';
import {
  classifyDropboxError,
  DropboxCredentialsError,
  DropboxCursorResetError,
  DropboxPathError,
  DropboxRateLimitError,
  DropboxRequestError,
  DropboxRootChangedError,
} from './errors';
import { createTokenEndpoint, type TokenEndpoint } from './tokenEndpoint';

const DROPBOX_API_ORIGIN = 'https://api.dropboxapi.com';
const DROPBOX_CONTENT_ORIGIN = 'https://content.dropboxapi.com';
/** The SDK's hosts; a local origin (DROPBOX_API_URL) stands for all of them. */
const DROPBOX_ORIGINS = /^https:\/\/(api|content|notify)\.dropboxapi\.com/u;

export interface DropboxHosts {
  /** RPC and auth calls: `api.dropboxapi.com`. */
  api: string;
  /** Downloads: `content.dropboxapi.com`, which alone serves them. */
  content: string;
  /** One origin standing for all of Dropbox's hosts (an emulator): the SDK's URLs are sent there. */
  single: boolean;
}

/** Dropbox's own hosts for its API origin; any other origin (an emulator) stands for all of them. */
export function dropboxHosts(apiUrl: string = DROPBOX_API_ORIGIN): DropboxHosts {
  const base = apiUrl.replace(/\/+$/u, '');
  if (base === DROPBOX_API_ORIGIN) return { api: base, content: DROPBOX_CONTENT_ORIGIN, single: false };
  return { api: base, content: base, single: true };
}

/** Where a URL the SDK built goes. */
export function routedUrl(url: string, hosts: DropboxHosts): string {
  return hosts.single ? url.replace(DROPBOX_ORIGINS, hosts.api) : url;
}

export interface DropboxAccount {
  accountId: string;
  email: string;
  name: string;
  /** Set for team accounts, whose folders live under the team's root namespace. */
  rootNamespaceId?: string;
}

/** Which account a call acts for: its token and, for team accounts, its root namespace. */
export interface DropboxCredentials {
  token: string;
  rootNamespaceId?: string;
  /**
   * For a connection that holds a refresh token: a fresh access token after Dropbox answered
   * `expired_access_token` (or no longer accepts `stale`). The call is then made once more.
   */
  renew?: (stale: string) => Promise<string>;
  /** Keeps the root namespace Dropbox named after `invalid_root` (the call is then made once more). */
  rerooted?: (rootNamespaceId: string | undefined) => Promise<void>;
  /** Tells every later call for these credentials to wait as long as a 429 asked. */
  rateLimited?: (retryAfterMs: number) => Promise<void>;
}

export interface DropboxFolder {
  id: string;
  name: string;
  pathDisplay: string;
  pathLower: string;
}

export interface DropboxClient extends TokenEndpoint {
  getAccount(credentials: DropboxCredentials): Promise<DropboxAccount>;
  /** Fails with a missing-scope error unless the token may read file metadata. */
  checkFileMetadataScope(credentials: DropboxCredentials): Promise<void>;
  /** One page: from the start of the folder, or the changes since `cursor`. */
  listFolderPage(
    credentials: DropboxCredentials,
    request: { path: string; cursor?: string; limit: number },
  ): Promise<ListedPage>;
  /** The folder at `path`, which must exist and be a folder ("" is the root). */
  getFolder(credentials: DropboxCredentials, path: string): Promise<DropboxFolder>;
  /** The folders directly inside `path`, all pages. */
  listSubfolders(credentials: DropboxCredentials, path: string): Promise<DropboxFolder[]>;
  /** A file's bytes as a stream, with what Dropbox says of it (see download.ts). */
  download(credentials: DropboxCredentials, request: DownloadRequest): Promise<Download>;
  /** Fails with a missing-scope error unless the token may read file contents. */
  checkFileContentScope(credentials: DropboxCredentials): Promise<void>;
  /**
   * What changed anywhere in the account since `cursor` (a recursive cursor on the root): the
   * lower-case paths of the entries, at most `maxPages` pages of them (`complete` false when more
   * were left), and the cursor after them. Without a cursor, none: only the account's latest cursor.
   */
  listAccountChanges(
    credentials: DropboxCredentials,
    request: { cursor?: string | undefined; maxPages: number },
  ): Promise<AccountChanges>;
}

export interface AccountChanges {
  pathsLower: string[];
  complete: boolean;
  cursor: string;
}

export interface DropboxClientOptions {
  /** Dropbox's own API origin unless told otherwise (a local emulator in tests and demos). */
  apiUrl?: string;
  /** Per-request time limit; a hung request is an outage, not a wait forever. */
  requestTimeoutMs?: number;
}

type Fetch = typeof fetch;

const CONTENT_SCOPE_PROBE = '/.dropbox-folder-sync-scope-check';

/** The SDK builds Dropbox's own URLs; an emulator's origin takes them all. */
function fetchTo(hosts: DropboxHosts, timeoutMs: number): Fetch {
  return (input, init) => {
    const target = routedUrl(String(input), hosts);
    return countDropboxCall(target, fetch(target, { ...init, signal: AbortSignal.timeout(timeoutMs) }));
  };
}

function toListedPage(result: files.ListFolderResult): ListedPage {
  const page: ListedPage = {
    files: [],
    folders: [],
    deletedPaths: [],
    cursor: result.cursor,
    hasMore: result.has_more,
  };
  for (const entry of result.entries) {
    if (entry['.tag'] === 'file') page.files.push(toListedFile(entry));
    else if (entry['.tag'] === 'folder') page.folders.push(toListedFolder(entry));
    else if (entry.path_lower) page.deletedPaths.push(entry.path_lower);
  }
  return page;
}

function toListedFile(f: files.FileMetadataReference): ListedFile {
  const file: ListedFile = {
    id: f.id,
    name: f.name,
    pathDisplay: f.path_display ?? f.name,
    pathLower: f.path_lower ?? f.name.toLowerCase(),
    rev: f.rev,
    size: f.size,
    serverModified: f.server_modified,
  };
  if (f.content_hash) file.contentHash = f.content_hash;
  return file;
}

function toListedFolder(f: files.FolderMetadataReference | files.FolderMetadata): ListedFolder {
  return {
    id: f.id,
    name: f.name,
    pathDisplay: f.path_display ?? f.name,
    pathLower: f.path_lower ?? f.name.toLowerCase(),
  };
}

export function createDropboxClient(options: DropboxClientOptions = {}): DropboxClient {
  const hosts = dropboxHosts(options.apiUrl);
  const timeoutMs = options.requestTimeoutMs ?? 30_000;
  const fetchFn = fetchTo(hosts, timeoutMs);
  const sdk = ({ token, rootNamespaceId }: DropboxCredentials) =>
    new Dropbox({
      accessToken: token,
      fetch: fetchFn,
      ...(rootNamespaceId ? { pathRoot: JSON.stringify({ '.tag': 'root', root: rootNamespaceId }) } : {}),
    });

  /**
   * `attempt` throws classified errors, and reads `credentials` each time it is made: after a
   * token that ran out (or was revoked) under us, or a root namespace that changed, it is made
   * once more with the renewed token or the new root. A 429 is passed on to the credentials'
   * owner, so that no other call for them is made before the wait is over.
   */
  async function renewingOnce<T>(credentials: DropboxCredentials, attempt: () => Promise<T>): Promise<T> {
    try {
      return await attempt();
    } catch (failure) {
      if (failure instanceof DropboxRateLimitError) {
        await credentials.rateLimited?.(failure.retryAfterMs).catch(() => undefined);
        throw failure;
      }
      if (failure instanceof DropboxRootChangedError) {
        if (failure.rootNamespaceId === undefined) delete credentials.rootNamespaceId;
        else credentials.rootNamespaceId = failure.rootNamespaceId;
        await credentials.rerooted?.(failure.rootNamespaceId);
        return attempt();
      }
      const stale =
        failure instanceof DropboxCredentialsError &&
        (failure.problem === 'expired_token' || failure.problem === 'invalid_token');
      if (!stale || !credentials.renew) throw failure;
      credentials.token = await credentials.renew(credentials.token);
    }
    return attempt();
  }

  function call<T>(
    credentials: DropboxCredentials,
    path: string,
    run: (client: Dropbox) => Promise<{ result: T }>,
  ): Promise<T> {
    return renewingOnce(credentials, async () => {
      try {
        return (await run(sdk(credentials))).result;
      } catch (err) {
        throw classifyDropboxError(err, path);
      }
    });
  }

  return {
    ...createTokenEndpoint({
      apiUrl: hosts.api,
      requestTimeoutMs: timeoutMs,
    }),

    async getAccount(credentials) {
      const account = await call(credentials, '', (client) => client.usersGetCurrentAccount());
      const rootInfo = account.root_info as { '.tag': string; root_namespace_id: string };
      return {
        accountId: account.account_id,
        email: account.email,
        name: account.name.display_name,
        ...(rootInfo['.tag'] === 'team' ? { rootNamespaceId: rootInfo.root_namespace_id } : {}),
      };
    },

    async checkFileMetadataScope(credentials) {
      await call(credentials, '', (client) => client.filesListFolder({ path: '', limit: 1 }));
    },

    async listFolderPage(credentials, { path, cursor, limit }) {
      if (!cursor) {
        return toListedPage(
          await call(credentials, path, (client) =>
            client.filesListFolder({ path, recursive: false, limit, include_deleted: false }),
          ),
        );
      }
      try {
        return toListedPage(
          await call(credentials, path, (client) => client.filesListFolderContinue({ cursor })),
        );
      } catch (err) {
        // A cursor Dropbox refuses as malformed (issued for another account, before a token was
        // replaced by one of another app) is as good as a reset: list the folder from the start.
        if (err instanceof DropboxRequestError) throw new DropboxCursorResetError();
        throw err;
      }
    },

    async getFolder(credentials, path) {
      if (path === '') return { id: '', name: '', pathDisplay: '', pathLower: '' };
      const meta = await call(credentials, path, (client) => client.filesGetMetadata({ path }));
      if (meta['.tag'] !== 'folder') throw new DropboxPathError('not_folder', path);
      return toListedFolder(meta);
    },

    async listSubfolders(credentials, path) {
      const folders: DropboxFolder[] = [];
      let result = await call(credentials, path, (client) =>
        client.filesListFolder({ path, recursive: false, limit: 2000 }),
      );
      for (;;) {
        folders.push(...toListedPage(result).folders);
        if (!result.has_more) return folders;
        const cursor = result.cursor;
        result = await call(credentials, path, (client) => client.filesListFolderContinue({ cursor }));
      }
    },

    download(credentials, request) {
      return renewingOnce(credentials, () => downloadFile(hosts.content, timeoutMs, credentials, request));
    },

    async checkFileContentScope(credentials) {
      // Dropbox checks the scope before the path: a path that is surely absent answers 409
      // not_found to a token that may download, 401 missing_scope to one that may not.
      try {
        const { body } = await renewingOnce(credentials, () =>
          downloadFile(hosts.content, timeoutMs, credentials, { path: CONTENT_SCOPE_PROBE }),
        );
        body.destroy();
      } catch (err) {
        if (err instanceof DropboxPathError) return;
        throw err;
      }
    },

    async listAccountChanges(credentials, { cursor, maxPages }) {
      if (!cursor) {
        const latest = await call(credentials, '', (client) =>
          client.filesListFolderGetLatestCursor({ path: '', recursive: true, limit: 2000 }),
        );
        return { pathsLower: [], complete: true, cursor: latest.cursor };
      }
      const pathsLower: string[] = [];
      let next = cursor;
      for (let page = 0; page < maxPages; page += 1) {
        const from = next;
        const result = await call(credentials, '', (client) =>
          client.filesListFolderContinue({ cursor: from }),
        ).catch((err: unknown) => {
          // A cursor Dropbox refuses as malformed is as good as a reset (see listFolderPage).
          throw err instanceof DropboxRequestError ? new DropboxCursorResetError() : err;
        });
        for (const entry of result.entries)
          if (entry.path_lower !== undefined) pathsLower.push(entry.path_lower);
        next = result.cursor;
        if (!result.has_more) return { pathsLower, complete: true, cursor: next };
      }
      return { pathsLower, complete: false, cursor: next };
    },
  };
}
