import type { FileRecord } from './types';

/**
 * Only a file's current rev is ever copied, so a file at the rev it was first recorded with has
 * no other stored rev: its content needs no read of the file's other content records.
 */
export function atFirstRev(file: Pick<FileRecord, 'rev' | 'firstRev'>): boolean {
  return file.rev === file.firstRev;
}
