import { createHash } from 'node:crypto';
import type { FileNode, FolderNode, Node, Tombstone } from './tree';

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

const BLOCK_SIZE = 4 * 1024 * 1024;

/** Dropbox's content hash: SHA-256 over the SHA-256 digests of each 4 MiB block. */
export function dropboxContentHash(content: Buffer): string {
  const outer = createHash('sha256');
  for (let offset = 0; offset < content.length; offset += BLOCK_SIZE) {
    outer.update(
      createHash('sha256')
        .update(content.subarray(offset, offset + BLOCK_SIZE))
        .digest(),
    );
  }
  return outer.digest('hex');
}

/**
 * Files added without content get a hash derived from their id and revision. It is computed on
 * first use, so that bulk-adding 100,000 files does not pay for 100,000 digests up front.
 */
function contentHashOf(node: FileNode): string {
  node.contentHash ??= createHash('sha256').update(`${node.id}@${node.rev}`).digest('hex');
  return node.contentHash;
}
