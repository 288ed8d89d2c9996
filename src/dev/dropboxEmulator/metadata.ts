import { contentHash, contentSize } from './content';
import type { FileNode, FileRevision, FolderNode, Node, Tombstone } from './tree';

/** The JSON Dropbox returns for files, folders and deleted entries (files.Metadata). */
export type MetadataJson = Record<string, unknown> & { '.tag': 'file' | 'folder' | 'deleted' };

export function metadataOf(node: Node): MetadataJson {
  return node.kind === 'file' ? fileMetadata(node) : folderMetadata(node);
}

export function fileMetadata(node: FileNode): MetadataJson {
  return {
    '.tag': 'file',
    name: node.name,
    path_lower: node.pathLower,
    path_display: node.pathDisplay,
    id: node.id,
    client_modified: node.clientModified ?? dropboxTimestamp(node.serverModifiedMs),
    server_modified: dropboxTimestamp(node.serverModifiedMs),
    rev: node.rev,
    size: node.size,
    is_downloadable: node.isDownloadable,
    content_hash: contentHashOf(node),
  };
}

export function folderMetadata(node: FolderNode): MetadataJson {
  return {
    '.tag': 'folder',
    name: node.name,
    path_lower: node.pathLower,
    path_display: node.pathDisplay,
    id: node.id,
  };
}

export function deletedMetadata(tombstone: Tombstone): MetadataJson {
  return {
    '.tag': 'deleted',
    name: tombstone.name,
    path_lower: tombstone.pathDisplay.toLowerCase(),
    path_display: tombstone.pathDisplay,
  };
}

/** Dropbox's timestamps are UTC to the second, without milliseconds. */
export function dropboxTimestamp(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/u, 'Z');
}

/** A hex revision of at least nine characters, unique to one version of one file. */
export function revFor(seq: number): string {
  return `5${seq.toString(16).padStart(11, '0')}`;
}

/** The hash is computed on first use, so that bulk-adding 100,000 files does not pay for it up front. */
function contentHashOf(node: FileNode): string {
  node.contentHash ??= contentHash(node.content);
  return node.contentHash;
}

/** A file as it was at one revision (`rev:` paths): the file's place now, that version's content. */
export function revisionMetadata(revision: FileRevision): MetadataJson {
  const { content } = revision;
  return {
    ...fileMetadata(revision.node),
    client_modified: dropboxTimestamp(revision.serverModifiedMs),
    server_modified: dropboxTimestamp(revision.serverModifiedMs),
    rev: revision.rev,
    size: contentSize(content),
    content_hash: contentHash(content),
  };
}
