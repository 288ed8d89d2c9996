import type { Account } from './accounts';
import type { LogRecord } from './changeLog';
import type { CursorCodec, CursorState } from './cursor';
import { cursorReset, pathError } from './errors';
import { deletedMetadata, metadataOf, type MetadataJson } from './metadata';
import type { Change, FolderNode } from './tree';

/**
 * files/list_folder, list_folder/continue and list_folder/get_latest_cursor over the change
 * logs. A first listing reads a folder's log from the start and skips tombstones; continuing
 * reads from the cursor's position. Non-recursive listings read the folder's own log, so a page
 * costs O(limit). Recursive listings read the account log filtered by path prefix: correct,
 * but O(changes in the account) for a subfolder; the product lists recursively only from the root
 * (the webhook receiver's look at an account's changes), where the prefix filter keeps every change.
 */
export interface ListOptions {
  recursive: boolean;
  includeDeleted: boolean;
  includeNonDownloadable: boolean;
  limit: number;
}

export interface ListFolderResult {
  entries: MetadataJson[];
  cursor: string;
  has_more: boolean;
}

export interface ListingDeps {
  codec: CursorCodec;
  /** The newest sequence number handed out: a caught-up cursor points here. */
  headSeq(): number;
}

export function startListing(account: Account, folder: FolderNode, options: ListOptions, deps: ListingDeps) {
  return readPage(account, folder, initialState(account, folder, options, 0, deps.headSeq()), deps);
}

export function latestCursor(account: Account, folder: FolderNode, options: ListOptions, deps: ListingDeps) {
  const head = deps.headSeq();
  return { cursor: deps.codec.encode(initialState(account, folder, options, head, head)) };
}

/** The next page or the changes since the cursor; 409 reset or path errors as Dropbox answers. */
export function continueListing(account: Account, state: CursorState, deps: ListingDeps): ListFolderResult {
  if (state.g !== account.cursorGeneration || state.h !== folderGeneration(account, state.p))
    throw cursorReset();
  const folder = state.p === '' ? account.tree.root : account.tree.lookup(state.p);
  if (folder?.kind !== 'folder') throw pathError('not_found');
  // Another folder now sits at that path: the cursor's history does not describe it.
  if (folder.id !== state.f) throw cursorReset();
  return readPage(account, folder, state, deps);
}

function initialState(
  account: Account,
  folder: FolderNode,
  options: ListOptions,
  position: number,
  snapshot: number,
) {
  return {
    a: account.accountId,
    f: folder.id,
    p: folder.pathLower,
    r: options.recursive,
    d: options.includeDeleted,
    n: options.includeNonDownloadable,
    l: options.limit,
    s: position,
    t: snapshot,
    g: account.cursorGeneration,
    h: folderGeneration(account, folder.pathLower),
  } satisfies CursorState;
}

function folderGeneration(account: Account, pathLower: string): number {
  return account.folderGenerations.get(pathLower) ?? 0;
}

function readPage(
  account: Account,
  folder: FolderNode,
  state: CursorState,
  deps: ListingDeps,
): ListFolderResult {
  const log = state.r ? account.tree.log : folder.log;
  const wanted = state.r
    ? recursiveFilter(account, folder, state)
    : (rec: LogRecord<Change>) => keep(rec, state);
  const entries: MetadataJson[] = [];
  let position = state.s;
  let hasMore = false;
  for (const rec of log.since(state.s)) {
    if (!wanted(rec)) {
      position = rec.seq;
      continue;
    }
    if (entries.length >= state.l) {
      hasMore = true;
      break;
    }
    entries.push('node' in rec.value ? metadataOf(rec.value.node) : deletedMetadata(rec.value.deleted));
    position = rec.seq;
  }
  if (!hasMore) position = Math.max(position, deps.headSeq());
  return { entries, cursor: deps.codec.encode({ ...state, s: position }), has_more: hasMore };
}

function keep(rec: LogRecord<Change>, state: CursorState): boolean {
  if ('deleted' in rec.value) return state.d || rec.seq > state.t;
  return state.n || rec.value.node.kind !== 'file' || rec.value.node.isDownloadable;
}

function recursiveFilter(account: Account, folder: FolderNode, state: CursorState) {
  const prefix = `${folder.pathLower}/`;
  return (rec: LogRecord<Change>) =>
    (folder.pathLower === '' || rec.key === folder.pathLower || rec.key.startsWith(prefix)) &&
    account.tree.isCurrent(rec) &&
    keep(rec, state);
}
