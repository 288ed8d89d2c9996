/** The files of a mapping newest first, as the admin page lists them, paged over FerretDB. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createFilesRepository, type FilesRepository } from '../../src/db/filesRepository';
import { newId } from '../../src/db/ids';
import { listedFile } from './listedFiles';
import { openTestDb, type TestDb } from './testDb';

describe('files newest first', () => {
  let t: TestDb;
  let files: FilesRepository;

  before(async () => {
    t = await openTestDb('newest-files');
    files = createFilesRepository(t.db);
  });
  after(async () => {
    await t?.close();
  });

  it('pages by Dropbox modification time, newest first, ties by id, with no file twice or missed', async () => {
    const mapping = { id: newId(), projectId: 'project-1' };
    // Three files share a time, so pages must split a tie.
    const times = ['2024-05-03', '2024-05-01', '2024-05-05', '2024-05-05', '2024-05-02', '2024-05-05', '2024-05-04'];
    const listed = times.map((day, i) => listedFile(i, { serverModified: `${day}T10:00:00Z` }));
    await files.upsertListedFiles(mapping, listed, 1, new Date());
    // A file of another mapping never shows.
    await files.upsertListedFiles({ id: newId(), projectId: 'project-1' }, [listedFile(99, { serverModified: '2030-01-01T00:00:00Z' })], 1, new Date());

    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    do {
      const page: Awaited<ReturnType<FilesRepository['listNewest']>> = await files.listNewest(mapping.id, { limit: 2, after });
      seen.push(...page.files.map((f) => f.name));
      after = page.next;
      pages += 1;
    } while (after);
    assert.equal(pages, 4);
    assert.deepEqual(seen, ['plan-5.pdf', 'plan-3.pdf', 'plan-2.pdf', 'plan-6.pdf', 'plan-0.pdf', 'plan-4.pdf', 'plan-1.pdf']);
  });

  it('refuses a cursor it did not make', async () => {
    await assert.rejects(files.listNewest(newId(), { limit: 5, after: 'not-a-cursor' }), RangeError);
    await assert.rejects(files.listNewest(newId(), { limit: 5, after: Buffer.from('[1,2]').toString('base64url') }), RangeError);
  });
});
