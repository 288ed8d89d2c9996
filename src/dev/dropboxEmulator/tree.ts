import { ChangeLog, type LogRecord } from './changeLog';
import { type ContentSpec, DEFAULT_CONTENT_SEED } from './content';
import { revFor } from './metadata';
import { splitPath } from './paths';

/**
 * One account's files and folders, with the change logs that listings read.
 *
 * Each folder keeps a log of its direct children (non-recursive cursors read it, O(page)); the
 * tree keeps an account-wide log keyed by path (recursive cursors and deleted-entry lookups).
 * Paths are case-insensitive: maps are keyed by `path_lower`, names by their lowercase form.
 */
export interface Tombstone {
  name: string;
  pathDisplay: string;
}
export type Change = { node: Node } | { deleted: Tombstone };

interface NodeBase {
  id: string;
  name: string;
  pathLower: string;
  pathDisplay: string;
}
export interface FileNode extends NodeBase {
  kind: 'file';
  parent: FolderNode;
  rev: string;
  size: number;
  /** The bytes of this version: given, or generated from a seed (see content.ts). */
  content: ContentSpec;
  /** The content hash, computed on first use (see metadata.ts). */
  contentHash?: string;
  /** As the uploader said; when unset, the server_modified of the version (formatted when shown). */
  clientModified?: string;
  serverModifiedMs: number;
  isDownloadable: boolean;
  /** Dropbox blocks its content (a copyright or legal claim): listed, never downloaded. */
  restricted?: boolean;
}
/** One version of a file; `node` is the file as it is now (it may have moved or gone). */
export interface FileRevision {
  node: FileNode;
  rev: string;
  content: ContentSpec;
  serverModifiedMs: number;
}
export interface FolderNode extends NodeBase {
  kind: 'folder';
  parent: FolderNode | null;
  /** Changes to the direct children, keyed by lowercase name; also the index of the children. */
  log: ChangeLog<Change>;
}
export type Node = FileNode | FolderNode;

/** Sequence numbers, ids and time come from the emulator so that they are unique across accounts. */
export interface TreeDeps {
  nextSeq(): number;
  newId(): string;
  now(): number;
}

export interface FileContent {
  /** Bytes of the file; sets `size`. */
  content?: string | Buffer;
  /** Without `content`: the bytes are generated from this seed (default 0) at `size`. */
  seed?: number;
  size?: number;
  clientModified?: string;
  isDownloadable?: boolean;
  /** Dropbox blocks the file's content (path/restricted_content on download). */
  restricted?: boolean;
}

export interface BulkAddOptions {
  prefix?: string;
  extension?: string;
  size?: number;
  /** First number used in the generated names (default 1). */
  startAt?: number;
}

export class FileTree {
  readonly root: FolderNode = newFolder('', '', '', null);
  /** Every change in the account, keyed by path_lower. */
  readonly log = new ChangeLog<Change>();
  private readonly byPath = new Map<string, Node>([['', this.root]]);
  private readonly byId = new Map<string, Node>();
  /** Every version of every file, for `rev:` paths: Dropbox keeps earlier versions downloadable. */
  private readonly revisions = new Map<string, FileRevision>();

  constructor(private readonly deps: TreeDeps) {}

  lookup(pathLower: string): Node | undefined {
    return this.byPath.get(pathLower);
  }

  lookupId(id: string): Node | undefined {
    return this.byId.get(id);
  }

  lookupRev(rev: string): FileRevision | undefined {
    return this.revisions.get(rev);
  }

  /** Account-log records can point at a node that has since moved or gone with its folder. */
  isCurrent(rec: LogRecord<Change>): boolean {
    return !('node' in rec.value) || this.byPath.get(rec.key) === rec.value.node;
  }

  get size(): number {
    return this.byId.size;
  }

  ensureFolder(path: string): FolderNode {
    const existing = this.byPath.get(path.toLowerCase());
    if (existing?.kind === 'folder') return existing;
    if (existing) throw new Error(`"${path}" is a file, not a folder`);
    const { parent, name } = splitPath(path);
    const parentNode = this.ensureFolder(parent);
    const folder = newFolder(this.deps.newId(), name, `${parentNode.pathDisplay}/${name}`, parentNode);
    this.attach(folder, this.deps.nextSeq());
    return folder;
  }

  addFile(path: string, content: FileContent = {}): FileNode {
    if (this.byPath.has(path.toLowerCase())) throw new Error(`"${path}" already exists`);
    const { parent, name } = splitPath(path);
    return this.createFile(this.ensureFolder(parent), name, content);
  }

  bulkAdd(folderPath: string, count: number, options: BulkAddOptions = {}): FileNode[] {
    const folder = this.ensureFolder(folderPath);
    const { prefix = 'file-', extension = '.pdf', startAt = 1 } = options;
    const width = String(startAt + count - 1).length;
    const created: FileNode[] = [];
    for (let i = 0; i < count; i++) {
      const name = `${prefix}${String(startAt + i).padStart(width, '0')}${extension}`;
      if (childOf(folder, name.toLowerCase()))
        throw new Error(`"${folder.pathDisplay}/${name}" already exists`);
      created.push(this.createFile(folder, name, options.size === undefined ? {} : { size: options.size }));
    }
    return created;
  }

  /** A content change: new rev, new content hash, new server_modified. */
  modifyFile(path: string, content: FileContent = {}): FileNode {
    const node = this.byPath.get(path.toLowerCase());
    if (node?.kind !== 'file') throw new Error(`No file at "${path}"`);
    const seq = this.deps.nextSeq();
    const previousMs = node.serverModifiedMs;
    this.applyContent(node, seq, { size: node.size + 1, ...content });
    // Two edits within one second must still show two distinct server_modified values.
    if (Math.floor(node.serverModifiedMs / 1000) <= Math.floor(previousMs / 1000)) {
      node.serverModifiedMs = previousMs + 1000;
      const revision = this.revisions.get(node.rev);
      if (revision) revision.serverModifiedMs = node.serverModifiedMs;
    }
    if (!content.clientModified) delete node.clientModified;
    this.record(node, seq);
    return node;
  }

  /**
   * Rename or move; the id stays. Content is unchanged, so rev and content hash stay too. A
   * change of case only is not reported to cursors, as Dropbox documents.
   */
  move(fromPath: string, toPath: string): Node {
    const node = this.byPath.get(fromPath.toLowerCase());
    if (!node || node === this.root) throw new Error(`Nothing to move at "${fromPath}"`);
    const { parent: toParent, name } = splitPath(toPath);
    const toLower = toPath.toLowerCase();
    if (toLower === node.pathLower) {
      node.name = name;
      this.repath(node, `${node.parent?.pathDisplay ?? ''}/${name}`);
      return node;
    }
    if (this.byPath.has(toLower)) throw new Error(`"${toPath}" already exists`);
    if (toLower.startsWith(`${node.pathLower}/`)) throw new Error(`Cannot move "${fromPath}" into itself`);
    const target = this.ensureFolder(toParent);
    this.detach(node);
    node.name = name;
    node.parent = target;
    this.repath(node, `${target.pathDisplay}/${name}`);
    this.attach(node, this.deps.nextSeq());
    // Recursive listings must see the subtree under its new paths.
    for (const d of descendants(node)) {
      this.byPath.set(d.pathLower, d);
      this.byId.set(d.id, d);
      this.log.record(d.pathLower, { node: d }, this.deps.nextSeq());
    }
    return node;
  }

  remove(path: string): void {
    const node = this.byPath.get(path.toLowerCase());
    if (!node || node === this.root) throw new Error(`Nothing to delete at "${path}"`);
    this.detach(node);
  }

  private createFile(parent: FolderNode, name: string, content: FileContent): FileNode {
    const seq = this.deps.nextSeq();
    const node: FileNode = {
      kind: 'file',
      id: this.deps.newId(),
      name,
      pathLower: `${parent.pathLower}/${name.toLowerCase()}`,
      pathDisplay: `${parent.pathDisplay}/${name}`,
      parent,
      rev: '',
      size: 0,
      serverModifiedMs: 0,
      isDownloadable: content.isDownloadable ?? true,
      content: { kind: 'generated', seed: DEFAULT_CONTENT_SEED, size: 0 },
    };
    this.applyContent(node, seq, { size: 1024 + (seq % 997) * 512, ...content });
    this.attach(node, seq);
    return node;
  }

  private applyContent(node: FileNode, seq: number, content: FileContent): void {
    node.rev = revFor(seq);
    node.serverModifiedMs = this.deps.now();
    if (content.clientModified) node.clientModified = content.clientModified;
    if (content.isDownloadable !== undefined) node.isDownloadable = content.isDownloadable;
    if (content.restricted !== undefined) node.restricted = content.restricted;
    if (content.content !== undefined) {
      const bytes = Buffer.isBuffer(content.content) ? content.content : Buffer.from(content.content);
      node.content = { kind: 'bytes', bytes };
      node.size = bytes.length;
    } else {
      node.size = content.size ?? node.size;
      node.content = { kind: 'generated', seed: content.seed ?? DEFAULT_CONTENT_SEED, size: node.size };
    }
    delete node.contentHash;
    this.revisions.set(node.rev, { node, rev: node.rev, content: node.content, serverModifiedMs: node.serverModifiedMs });
  }

  private attach(node: Node, seq: number): void {
    this.byPath.set(node.pathLower, node);
    this.byId.set(node.id, node);
    this.record(node, seq);
  }

  private record(node: Node, seq: number): void {
    const change = { node };
    (node.parent as FolderNode).log.record(nameKey(node), change, seq);
    this.log.record(node.pathLower, change, seq);
  }

  /** Takes a node and its subtree out of the indexes; its parent and the account log get a tombstone. */
  private detach(node: Node): void {
    const parent = node.parent as FolderNode;
    for (const n of [node, ...descendants(node)]) {
      this.byPath.delete(n.pathLower);
      this.byId.delete(n.id);
    }
    const seq = this.deps.nextSeq();
    const deleted = { deleted: { name: node.name, pathDisplay: node.pathDisplay } };
    parent.log.record(nameKey(node), deleted, seq);
    this.log.record(node.pathLower, deleted, seq);
  }

  private repath(node: Node, pathDisplay: string): void {
    const oldLower = node.pathLower;
    node.pathDisplay = pathDisplay;
    node.pathLower = pathDisplay.toLowerCase();
    if (this.byPath.get(oldLower) === node) {
      this.byPath.delete(oldLower);
      this.byPath.set(node.pathLower, node);
    }
    if (node.kind === 'folder') {
      for (const child of children(node)) this.repath(child, `${pathDisplay}/${child.name}`);
    }
  }
}

function newFolder(id: string, name: string, pathDisplay: string, parent: FolderNode | null): FolderNode {
  return {
    kind: 'folder',
    id,
    name,
    pathLower: pathDisplay.toLowerCase(),
    pathDisplay,
    parent,
    log: new ChangeLog<Change>(),
  };
}

function nameKey(node: Node): string {
  return node.name.toLowerCase();
}

function childOf(folder: FolderNode, nameLower: string): Node | undefined {
  const rec = folder.log.get(nameLower);
  return rec && 'node' in rec.value ? rec.value.node : undefined;
}

function* children(folder: FolderNode): Generator<Node> {
  for (const rec of folder.log.latestRecords()) if ('node' in rec.value) yield rec.value.node;
}

function* descendants(node: Node): Generator<Node> {
  if (node.kind !== 'folder') return;
  for (const child of children(node)) {
    yield child;
    yield* descendants(child);
  }
}
