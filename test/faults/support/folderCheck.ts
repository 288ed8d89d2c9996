import assert from 'node:assert/strict';
import type { Db } from 'mongodb';
import { collections } from '../../../src/db/collections';
import { createDropboxClient } from '../../../src/dropbox/client';
import { createPathPolicy } from '../../../src/domain/pathPolicy';
import type { ListedFile } from '../../../src/domain/types';

export interface FolderCheck {
  filesInFolder: number;
  liveRecords: number;
  deletedRecords: number;
}

/**
 * What Dropbox (the emulator, faults cleared) says is directly in the folder now, less the names
 * the default special-character policy refuses (those are rejections, not records).
 */
export async function listFolderTruth(apiUrl: string, token: string, path: string): Promise<ListedFile[]> {
  const dropbox = createDropboxClient({ apiUrl });
  const policy = createPathPolicy();
  const files: ListedFile[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await dropbox.listFolderPage(
      { token },
      { path, limit: 2000, ...(cursor ? { cursor } : {}) },
    );
    files.push(...page.files.filter((f) => policy.offendingCharacters(f.name).length === 0));
    cursor = page.cursor;
    if (!page.hasMore) return files;
  }
}

/**
 * The guarantee after any fault: every file in the folder is recorded exactly once, live, with
 * its newest rev and current path, and no live record stands for a file that is not there.
 */
export async function assertFolderRecordedExactly(
  db: Db,
  mappingId: string,
  truth: ListedFile[],
): Promise<FolderCheck> {
  const records = await collections(db).files.find({ mappingId }).toArray();
  const byDropboxId = new Map<string, (typeof records)[number][]>();
  for (const record of records)
    byDropboxId.set(record.dropboxId, [...(byDropboxId.get(record.dropboxId) ?? []), record]);
  const live = records.filter((r) => r.deletedAt === null);
  const problems: string[] = [];
  for (const file of truth) {
    const found = byDropboxId.get(file.id) ?? [];
    if (found.length !== 1) problems.push(`${file.pathDisplay}: ${found.length} records`);
    else if (found[0]!.deletedAt !== null) problems.push(`${file.pathDisplay}: marked deleted`);
    else if (found[0]!.rev !== file.rev)
      problems.push(`${file.pathDisplay}: rev ${found[0]!.rev}, newest ${file.rev}`);
    else if (found[0]!.pathLower !== file.pathLower)
      problems.push(`${file.pathDisplay}: recorded at ${found[0]!.pathLower}`);
  }
  const present = new Set(truth.map((f) => f.id));
  for (const record of live)
    if (!present.has(record.dropboxId)) problems.push(`${record.path}: live record, no such file`);
  assert.deepEqual(problems.slice(0, 20), [], `${problems.length} problem(s)`);
  assert.equal(live.length, truth.length);
  return {
    filesInFolder: truth.length,
    liveRecords: live.length,
    deletedRecords: records.length - live.length,
  };
}
