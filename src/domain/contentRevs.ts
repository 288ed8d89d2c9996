import type { ContentRecord, FileRecord } from './types';

/**
 * The file names another rev than this content record: an earlier one (the listing that recorded
 * this rev has yet to write the file record), or a later one that supersedes it. Dropbox's times
 * have whole seconds; of two revs of one second, the one written last is the file's.
 */
export function listedAhead(
  file: Pick<FileRecord, 'serverModified' | 'updatedAt'>,
  content: Pick<ContentRecord, 'serverModified' | 'listedAt'>,
): boolean {
  const [fileTime, revTime] = [file.serverModified.getTime(), content.serverModified.getTime()];
  return (
    fileTime < revTime || (fileTime === revTime && file.updatedAt.getTime() < content.listedAt.getTime())
  );
}

/**
 * Only a file's current rev is ever copied, so a file at the rev it was first recorded with has
 * no other stored rev: its content needs no read of the file's other content records.
 */
export function atFirstRev(file: Pick<FileRecord, 'rev' | 'firstRev'>): boolean {
  return file.rev === file.firstRev;
}
