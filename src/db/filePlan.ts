import type { ContentRecord, FileRecord, ListedFile } from '../domain/types';

/** One record per file and mapping, whatever retries or renames happen. */
export function fileRecordId(mappingId: string, dropboxId: string): string {
  return `${mappingId}:${dropboxId}`;
}

/** One content record per file record and rev. */
export function contentRecordId(recordId: string, rev: string): string {
  return `${recordId}@${rev}`;
}

/** A recorded rev waits for its bytes; stored bytes of an older rev stay until then. */
export function pendingContent(
  file: Pick<FileRecord, '_id' | 'mappingId' | 'rev' | 'serverModified'>,
): ContentRecord {
  return {
    _id: contentRecordId(file._id, file.rev),
    fileRecordId: file._id,
    mappingId: file.mappingId,
    rev: file.rev,
    state: 'pending',
    serverModified: file.serverModified,
  };
}

/** The stored fields that decide what an incoming entry changes. */
export type StoredFile = Pick<
  FileRecord,
  | '_id'
  | 'name'
  | 'path'
  | 'pathLower'
  | 'size'
  | 'rev'
  | 'contentHash'
  | 'serverModified'
  | 'listingGeneration'
  | 'deletedAt'
>;

export const STORED_FILE_PROJECTION = {
  _id: 1,
  name: 1,
  path: 1,
  pathLower: 1,
  size: 1,
  rev: 1,
  contentHash: 1,
  serverModified: 1,
  listingGeneration: 1,
  deletedAt: 1,
} as const;

/** The fields a listing entry sets: content, place, and "live and seen by this listing". */
export type ListedFields = Pick<
  FileRecord,
  | 'name'
  | 'path'
  | 'pathLower'
  | 'size'
  | 'rev'
  | 'contentHash'
  | 'serverModified'
  | 'listingGeneration'
  | 'deletedAt'
  | 'updatedAt'
>;

export interface FileWritePlan {
  inserts: FileRecord[];
  /** Content changes, renames and files that came back; applied only over an equal or older rev. */
  updates: { _id: string; fields: ListedFields }[];
  /** Records the entry leaves as they are but for the mark that this listing saw them. */
  stamps: string[];
  /** Entries that change nothing a user sees (stamped or not). */
  unchanged: number;
}

export function listedFields(file: ListedFile, listingGeneration: number, now: Date): ListedFields {
  const serverModified = new Date(file.serverModified);
  if (Number.isNaN(serverModified.getTime())) {
    throw new TypeError(`serverModified of ${file.id} is not a date: ${file.serverModified}`);
  }
  return {
    name: file.name,
    path: file.pathDisplay,
    pathLower: file.pathLower,
    size: file.size,
    rev: file.rev,
    contentHash: file.contentHash ?? null,
    serverModified,
    listingGeneration,
    deletedAt: null,
    updatedAt: now,
  };
}

function sameContent(stored: StoredFile, incoming: ListedFields): boolean {
  return (
    stored.rev === incoming.rev &&
    stored.path === incoming.path &&
    stored.pathLower === incoming.pathLower &&
    stored.name === incoming.name &&
    stored.size === incoming.size &&
    (stored.contentHash ?? null) === incoming.contentHash &&
    stored.serverModified.getTime() === incoming.serverModified.getTime()
  );
}

/** The newest entry per file id: a page may, in principle, hold a file twice. */
export function newestPerId(files: readonly ListedFile[]): ListedFile[] {
  const byId = new Map<string, ListedFile>();
  for (const file of files) {
    const seen = byId.get(file.id);
    if (!seen || Date.parse(seen.serverModified) <= Date.parse(file.serverModified)) byId.set(file.id, file);
  }
  return [...byId.values()];
}

/**
 * Decides, from what is stored, the fewest writes that record a page of listed files. An entry
 * older than the stored rev (a late retry) never overwrites it; an entry that matches what is
 * stored writes nothing unless this listing must mark it seen.
 */
export function planListedFiles(
  mapping: { id: string; projectId: string },
  files: readonly ListedFile[],
  listingGeneration: number,
  now: Date,
  stored: ReadonlyMap<string, StoredFile>,
): FileWritePlan {
  const plan: FileWritePlan = { inserts: [], updates: [], stamps: [], unchanged: 0 };
  for (const file of newestPerId(files)) {
    const _id = fileRecordId(mapping.id, file.id);
    const fields = listedFields(file, listingGeneration, now);
    const existing = stored.get(_id);
    if (!existing) {
      plan.inserts.push({
        _id,
        mappingId: mapping.id,
        projectId: mapping.projectId,
        dropboxId: file.id,
        ...fields,
        firstRev: fields.rev,
        syncedAt: now,
      });
      continue;
    }
    const stale = fields.serverModified.getTime() < existing.serverModified.getTime();
    const live = existing.deletedAt === null || existing.deletedAt === undefined;
    if (stale || (live && sameContent(existing, fields))) {
      plan.unchanged += 1;
      // A stale entry still proves the file exists, so this listing's sweep must spare it.
      if (live && existing.listingGeneration !== listingGeneration) plan.stamps.push(_id);
      continue;
    }
    plan.updates.push({ _id, fields });
  }
  return plan;
}
