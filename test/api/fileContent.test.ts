/**
 * Files the project can open, through HTTP: a worker in-process copies the contents of a mapped
 * folder into GridFS, and the content route serves them byte for byte, with Range, ETag and the
 * original name; pending and failed contents, the missing content scope, and another project's
 * file answer as documented.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  connectionSavedResponse,
  contentLinkResponse,
  fileResponse,
  filesResponse,
  mappingResponse,
} from '../../src/api/responseSchemas';
import { eventually } from '../support/eventually';
import {
  assertError,
  connect,
  createProjectAdmin,
  dropboxAccount,
  dropboxBase,
  expectStatus,
  type DropboxTestAccount,
  type ProjectAdmin,
} from './fixtures';
import { type ApiHarness, startApiHarness } from './harness';

const NINE_MIB = 9 * 1024 * 1024;
const MAX_FILE_BYTES = 16 * 1024 * 1024;

describe('file contents through the API', () => {
  let h: ApiHarness;
  let admin: ProjectAdmin;
  let account: DropboxTestAccount;
  let mappingId: string;
  let files: {
    id: string;
    name: string;
    contentState: string;
    contentHash: string;
    storedRev: string | null;
    rev: string;
    syncedAt: string;
  }[];

  const api = (method: string, path: string, body?: unknown, who = admin) =>
    h.call(method, `${dropboxBase(who)}${path}`, { key: who.key, ...(body === undefined ? {} : { body }) });
  const content = (fileId: string, headers: Record<string, string> = {}, who = admin, mapping = mappingId) =>
    fetch(`${h.url}${dropboxBase(who)}/mappings/${mapping}/files/${encodeURIComponent(fileId)}/content`, {
      headers: { authorization: `Bearer ${who.key}`, ...headers },
    });
  const dropboxBytes = async (path: string) => {
    const res = await fetch(`${h.emulator.url}/2/files/download`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${account.token}`, 'Dropbox-API-Arg': JSON.stringify({ path }) },
    });
    return Buffer.from(await res.arrayBuffer());
  };
  async function mapFolder(who: ProjectAdmin, connectionId: string, dropboxPath: string): Promise<string> {
    const res = await api('POST', '/mappings', { connectionId, dropboxPath }, who);
    expectStatus(res, 201);
    return res.body.id as string;
  }
  async function listFiles(mapping: string, who = admin) {
    const res = await api('GET', `/mappings/${mapping}/files?limit=1000`, undefined, who);
    expectStatus(res, 200);
    filesResponse.parse(res.body);
    return res.body.files as typeof files;
  }

  before(async () => {
    h = await startApiHarness({ worker: true, maxFileBytes: MAX_FILE_BYTES });
    admin = await createProjectAdmin(h);
    account = dropboxAccount(h);
    const a = account.accountId;
    h.emulator.addFile(a, '/Site/empty.txt', { content: '' });
    h.emulator.addFile(a, '/Site/one.bin', { content: 'x' });
    h.emulator.addFile(a, '/Site/nine.bin', { seed: 9, size: NINE_MIB });
    h.emulator.addFile(a, '/Site/Kaivanto ä ö.dwg', { seed: 4, size: 123_457 });
    const connectionId = await connect(h, admin, account);
    mappingId = await mapFolder(admin, connectionId, '/Site');
    await eventually(async () => {
      const res = await api('GET', `/mappings/${mappingId}`);
      expectStatus(res, 200);
      assert.deepEqual(res.body.counts.contents, { pending: 0, stored: 4, failed: 0 });
    }, 60_000);
    files = await listFiles(mappingId);
  });

  after(async () => {
    await h?.close();
  });

  it('serves the bytes Dropbox holds for an empty file, a 1-byte file, a 9 MiB file and a non-ASCII name', async () => {
    assert.equal(files.length, 4);
    for (const file of files) {
      assert.equal(file.contentState, 'stored');
      assert.equal(file.storedRev, file.rev);
      const res = await content(file.id);
      assert.equal(res.status, 200, file.name);
      const body = Buffer.from(await res.arrayBuffer());
      const expected = await dropboxBytes(`/Site/${file.name}`);
      assert.equal(res.headers.get('content-length'), String(expected.length));
      assert.ok(body.equals(expected), `${file.name}: served bytes equal uploaded bytes`);
      assert.equal(res.headers.get('etag'), `"${file.contentHash}"`);
    }
    const dwg = files.find((f) => f.name === 'Kaivanto ä ö.dwg');
    assert.ok(dwg);
    const res = await content(dwg.id);
    await res.arrayBuffer();
    assert.equal(res.headers.get('content-type'), 'image/vnd.dwg');
    assert.equal(
      res.headers.get('content-disposition'),
      `attachment; filename="Kaivanto _ _.dwg"; filename*=UTF-8''Kaivanto%20%C3%A4%20%C3%B6.dwg`,
    );
    // If-None-Match as HTTP compares it: a list, weak or strong, and `*`.
    for (const ifNoneMatch of [`"${dwg.contentHash}"`, `"other", W/"${dwg.contentHash}"`, '*']) {
      const again = await content(dwg.id, { 'if-none-match': ifNoneMatch });
      assert.equal(again.status, 304, ifNoneMatch);
      assert.equal(again.headers.get('etag'), `"${dwg.contentHash}"`);
      assert.equal(again.headers.get('cache-control'), 'private, no-cache', 'what a 200 would carry');
    }
    const changed = await content(dwg.id, { 'if-none-match': '"an older rev"' });
    assert.equal(changed.status, 200);
    await changed.arrayBuffer();
    // Whatever was put in the folder is never sniffed, nor run as a page of the admin's origin.
    assert.equal(changed.headers.get('x-content-type-options'), 'nosniff');
    assert.match(changed.headers.get('content-security-policy') ?? '', /^sandbox/u);
  });

  it('answers one file by its id as the list shows it, and 404 file_not_found for an id not recorded', async () => {
    for (const file of files) {
      const res = await api('GET', `/mappings/${mappingId}/files/${encodeURIComponent(file.id)}`);
      expectStatus(res, 200);
      fileResponse.parse(res.body);
      assert.deepEqual(res.body, file);
    }
    const unknown = await api('GET', `/mappings/${mappingId}/files/${encodeURIComponent('id:never-listed')}`);
    assertError(unknown, 404, 'file_not_found');
  });

  it('pages through the files by next and after, in record order and newest first', async () => {
    for (const order of ['', '&order=newest']) {
      const seen: string[] = [];
      let after: string | null = null;
      for (let pages = 0; pages < 10; pages += 1) {
        const query = `limit=3${order}${after ? `&after=${encodeURIComponent(after)}` : ''}`;
        const res = await api('GET', `/mappings/${mappingId}/files?${query}`);
        expectStatus(res, 200);
        filesResponse.parse(res.body);
        assert.ok(res.body.files.length <= 3);
        seen.push(...(res.body.files as { id: string }[]).map((f) => f.id));
        after = res.body.next as string | null;
        if (!after) break;
      }
      assert.deepEqual([...seen].sort(), files.map((f) => f.id).sort(), `every file once${order}`);
      assert.equal(new Set(seen).size, seen.length);
    }
  });

  it('answers 400 to an `after` that is not a `next` of the listing, instead of paging from wherever it sorts', async () => {
    const first = await api('GET', `/mappings/${mappingId}/files?limit=1`);
    expectStatus(first, 200);
    const newest = await api('GET', `/mappings/${mappingId}/files?limit=1&order=newest`);
    const foreign = [
      'garbage',
      '0',
      'zzzz',
      newest.body.next as string, // a newest-first page's next, given to the record-order listing
      `other-mapping:${(first.body.files as { id: string }[])[0]!.id}`,
    ];
    for (const path of ['files', 'rejections']) {
      for (const after of foreign) {
        const res = await api('GET', `/mappings/${mappingId}/${path}?after=${encodeURIComponent(after)}`);
        assertError(res, 400, 'invalid_request');
        // The shape of every other 400: `field`, `in`, `problem`.
        assert.deepEqual(Object.keys(res.body.error.details.fields[0] as object).sort(), ['field', 'in', 'problem']);
        assert.equal(res.body.error.details.fields[0].field, 'after');
      }
    }
    // Newest first: its own cursors only, not one naming a record of another mapping.
    const forged = Buffer.from(JSON.stringify([Date.now(), `other-mapping:${(first.body.files as { id: string }[])[0]!.id}`])).toString('base64url');
    for (const after of ['garbage', first.body.next as string, forged]) {
      const res = await api('GET', `/mappings/${mappingId}/files?order=newest&after=${encodeURIComponent(after)}`);
      assertError(res, 400, 'invalid_request');
    }
    expectStatus(await api('GET', `/mappings/${mappingId}/files?order=newest&limit=1&after=${encodeURIComponent(newest.body.next as string)}`), 200);
    const next = await api('GET', `/mappings/${mappingId}/files?limit=1&after=${encodeURIComponent(first.body.next as string)}`);
    expectStatus(next, 200);
  });

  it('answers a Range request with 206 and exactly that slice, 416 for a range past the end, and the whole file when If-Range names other bytes', async () => {
    const nine = files.find((f) => f.name === 'nine.bin');
    assert.ok(nine);
    const whole = await dropboxBytes('/Site/nine.bin');
    const start = 4 * 1024 * 1024 - 10;
    const res = await content(nine.id, { range: `bytes=${start}-${start + 1_048_575}` });
    assert.equal(res.status, 206);
    assert.equal(res.headers.get('content-range'), `bytes ${start}-${start + 1_048_575}/${NINE_MIB}`);
    assert.ok(Buffer.from(await res.arrayBuffer()).equals(whole.subarray(start, start + 1_048_576)));
    const tail = await content(nine.id, { range: 'bytes=-5' });
    assert.ok(Buffer.from(await tail.arrayBuffer()).equals(whole.subarray(NINE_MIB - 5)));
    const past = await content(nine.id, { range: `bytes=${NINE_MIB}-` });
    assert.equal(past.status, 416);
    assert.equal(past.headers.get('content-range'), `bytes */${NINE_MIB}`);
    assert.equal(((await past.json()) as { error: { code: string } }).error.code, 'range_not_satisfiable');

    // Resuming: the slice only of the bytes the client holds part of (If-Range names their ETag).
    const etag = `"${nine.contentHash}"`;
    const resumed = await content(nine.id, { range: 'bytes=100-199', 'if-range': etag });
    assert.equal(resumed.status, 206);
    assert.ok(Buffer.from(await resumed.arrayBuffer()).equals(whole.subarray(100, 200)));
    for (const ifRange of ['"an older rev"', `W/${etag}`, 'Fri, 04 Dec 2026 10:00:00 GMT']) {
      const fresh = await content(nine.id, { range: 'bytes=100-199', 'if-range': ifRange });
      assert.equal(fresh.status, 200, `If-Range ${ifRange}: the whole file`);
      assert.equal(fresh.headers.get('content-range'), null);
      assert.equal((await fresh.arrayBuffer()).byteLength, NINE_MIB);
    }
    // A last position past the end, however long the number, means "to the end".
    const long = await content(nine.id, { range: 'bytes=0-99999999999999999999' });
    assert.equal(long.status, 206);
    assert.equal(long.headers.get('content-range'), `bytes 0-${NINE_MIB - 1}/${NINE_MIB}`);
    assert.equal((await long.arrayBuffer()).byteLength, NINE_MIB);
    // A suffix of an empty file is the whole (empty) file, not a 416.
    const empty = files.find((f) => f.name === 'empty.txt');
    assert.ok(empty);
    const emptyTail = await content(empty.id, { range: 'bytes=-5' });
    assert.equal(emptyTail.status, 200);
    assert.equal((await emptyTail.arrayBuffer()).byteLength, 0);
    // HEAD ignores Range (only GET has range semantics): the whole file's length, no slice.
    const head = await fetch(`${h.url}${dropboxBase(admin)}/mappings/${mappingId}/files/${encodeURIComponent(nine.id)}/content`, {
      method: 'HEAD',
      headers: { authorization: `Bearer ${admin.key}`, range: 'bytes=0-9' },
    });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), String(NINE_MIB));
    assert.equal(head.headers.get('content-range'), null);
    // Several ranges: served whole rather than refused (a range past the end among them too).
    const several = await content(nine.id, { range: `bytes=0-9,${NINE_MIB}-` });
    assert.equal(several.status, 200);
    assert.equal((await several.arrayBuffer()).byteLength, NINE_MIB);
  });

  it('makes a download link that serves the same bytes with no API key, for five minutes, and for that file only', async () => {
    const nine = files.find((f) => f.name === 'nine.bin');
    const dwg = files.find((f) => f.name === 'Kaivanto ä ö.dwg');
    assert.ok(nine && dwg);
    const link = await api('POST', `/mappings/${mappingId}/files/${encodeURIComponent(nine.id)}/content-link`);
    expectStatus(link, 201);
    contentLinkResponse.parse(link.body);
    const url = link.body.url as string;
    assert.match(url, /^\/v1\/content-links\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/u);
    const ttl = Date.parse(link.body.expiresAt as string) - Date.now();
    assert.ok(ttl > 4 * 60_000 && ttl <= 5 * 60_000 + 1_000, `expires in ${ttl} ms`);

    const whole = await dropboxBytes('/Site/nine.bin');
    const served = await fetch(`${h.url}${url}`);
    assert.equal(served.status, 200);
    assert.ok(Buffer.from(await served.arrayBuffer()).equals(whole));
    assert.equal(served.headers.get('etag'), `"${nine.contentHash}"`);
    assert.match(served.headers.get('content-disposition') ?? '', /^attachment; filename="nine\.bin"/u);
    const slice = await fetch(`${h.url}${url}`, { headers: { range: 'bytes=10-19' } });
    assert.equal(slice.status, 206);
    assert.ok(Buffer.from(await slice.arrayBuffer()).equals(whole.subarray(10, 20)));

    // Altered: another file's id under the same signature, or a signature cut short.
    const [payload, signature] = url.slice('/v1/content-links/'.length).split('.') as [string, string];
    const claim = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as unknown[];
    claim[2] = dwg.id;
    const swapped = `${Buffer.from(JSON.stringify(claim)).toString('base64url')}.${signature}`;
    for (const token of [swapped, `${payload}.${signature.slice(0, -2)}`, payload, 'x.y.z']) {
      const res = await h.call('GET', `/v1/content-links/${token}`);
      assertError(res, 404, 'content_link_not_found');
    }
    const expired = h.deps.contentLinks.create(
      { projectId: admin.projectId, mappingId, fileId: nine.id },
      new Date(Date.now() - 6 * 60_000),
    );
    const gone = await h.call('GET', `/v1/content-links/${expired.token}`);
    assertError(gone, 410, 'content_link_expired');
    assert.ok(!gone.text.includes(nine.name), 'nothing of the file leaks');
    // A link is only ever made for a project's admin.
    const stranger = await createProjectAdmin(h);
    const refused = await h.call('POST', `${dropboxBase(admin)}/mappings/${mappingId}/files/${encodeURIComponent(nine.id)}/content-link`, {
      key: stranger.key,
    });
    assert.equal(refused.status, 403);
  });

  it('answers 409 content_pending while a file is recorded and its content not yet stored', async () => {
    h.emulator.failNext({ status: 503, route: 'files/download' }, 1_000);
    try {
      h.emulator.addFile(account.accountId, '/Site/later.pdf', { content: 'arrives later' });
      expectStatus(await api('POST', `/mappings/${mappingId}/sync`), 202);
      const later = await eventually(async () => {
        const found = (await listFiles(mappingId)).find((f) => f.name === 'later.pdf');
        assert.ok(found);
        return found;
      }, 30_000);
      assert.equal(later.contentState, 'pending');
      const res = await content(later.id);
      assert.equal(res.status, 409);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'content_pending');
      assertError(await api('POST', `/mappings/${mappingId}/files/${encodeURIComponent(later.id)}/content-link`), 409, 'content_pending');
    } finally {
      h.emulator.clearFaults();
    }
  });

  it('accepts a token without files.content.read with a warning; its contents fail with missing_scope and the status says what to add', async () => {
    const other = await createProjectAdmin(h);
    const limited = dropboxAccount(h, undefined, { scopes: ['account_info.read', 'files.metadata.read'] });
    h.emulator.addFile(limited.accountId, '/Docs/a.txt', { content: 'a' });
    const res = await h.call('POST', `${dropboxBase(other)}/connections`, {
      key: other.key,
      body: { clientIdentification: limited.email, accessToken: limited.token },
    });
    expectStatus(res, 201);
    connectionSavedResponse.parse(res.body);
    // A pasted token is short-lived too (the emulator's start with "sl."), which is its own warning.
    assert.ok(
      res.body.warnings.some((w: { code: string }) => w.code === 'missing_content_scope'),
      JSON.stringify(res.body.warnings),
    );
    const mapping = await mapFolder(other, res.body.id as string, '/Docs');
    const status = await eventually(async () => {
      const s = await api('GET', `/mappings/${mapping}`, undefined, other);
      assert.deepEqual(s.body.counts.contents, { pending: 0, stored: 0, failed: 1 });
      return s.body;
    }, 60_000);
    mappingResponse.parse(status);
    assert.equal(status.contentProblem.code, 'missing_content_scope');
    assert.equal(status.contentProblem.requiredScope, 'files.content.read');
    const [file] = await listFiles(mapping, other);
    assert.ok(file);
    const served = await content(file.id, {}, other, mapping);
    assert.equal(served.status, 409);
    const body = (await served.json()) as { error: { code: string; details: { reason: string } } };
    assert.equal(body.error.code, 'content_failed');
    assert.equal(body.error.details.reason, 'missing_scope');
  });

  it("answers 404 for another project's file, and refuses a malformed file id", async () => {
    const stranger = await createProjectAdmin(h);
    const file = files[0];
    assert.ok(file);
    const viaOwnProject = await content(file.id, {}, stranger, mappingId);
    assert.equal(viaOwnProject.status, 404);
    const answer = { status: 404, text: await viaOwnProject.text() };
    assert.ok(!answer.text.includes(file.name), 'nothing of the file leaks');
    const strangerAccount = dropboxAccount(h);
    h.emulator.addFolder(strangerAccount.accountId, '/Mine');
    const strangerMapping = await mapFolder(stranger, await connect(h, stranger, strangerAccount), '/Mine');
    const crossed = await content(file.id, {}, stranger, strangerMapping);
    assert.equal(crossed.status, 404);
    assert.equal(((await crossed.json()) as { error: { code: string } }).error.code, 'file_not_found');
    const record = (who: ProjectAdmin, mapping: string) =>
      api('GET', `/mappings/${mapping}/files/${encodeURIComponent(file.id)}`, undefined, who);
    const recordViaOwnProject = await record(stranger, mappingId);
    assertError(recordViaOwnProject, 404, 'mapping_not_found');
    assert.ok(!JSON.stringify(recordViaOwnProject.body).includes(file.name), 'nothing of the file leaks');
    assertError(await record(stranger, strangerMapping), 404, 'file_not_found');
    const bad = await h.call(
      'GET',
      `${dropboxBase(admin)}/mappings/${mappingId}/files/..%2F..%2Fetc/content`,
      {
        key: admin.key,
      },
    );
    assertError(bad, 400, 'invalid_request');
  });

  it('keeps a file deleted in Dropbox, marked deleted: listed with deleted=true, its stored content still served', async () => {
    h.emulator.addFile(account.accountId, '/Site/gone.txt', { content: 'kept after deletion' });
    expectStatus(await api('POST', `/mappings/${mappingId}/sync`), 202);
    const stored = await eventually(async () => {
      const found = (await listFiles(mappingId)).find((f) => f.name === 'gone.txt');
      assert.equal(found?.contentState, 'stored');
      return found;
    }, 30_000);
    assert.equal((stored as { deletedAt?: unknown }).deletedAt, null);
    h.emulator.remove(account.accountId, '/Site/gone.txt');
    expectStatus(await api('POST', `/mappings/${mappingId}/sync`), 202);
    const deleted = await eventually(async () => {
      const res = await api('GET', `/mappings/${mappingId}/files?deleted=true`);
      expectStatus(res, 200);
      filesResponse.parse(res.body);
      assert.deepEqual(
        res.body.files.map((f: { name: string }) => f.name),
        ['gone.txt'],
      );
      return res.body.files[0] as { id: string; deletedAt: string | null };
    }, 30_000);
    assert.ok(deleted.deletedAt && Date.parse(deleted.deletedAt) >= Date.parse(stored.syncedAt));
    const live = await listFiles(mappingId);
    assert.ok(!live.some((f) => f.name === 'gone.txt'), 'not among the files in the folder now');
    assert.equal(live.length, files.length + 1, 'the other files stay listed');
    const newest = await api('GET', `/mappings/${mappingId}/files?deleted=true&order=newest`);
    expectStatus(newest, 200);
    assert.deepEqual(newest.body.files, [deleted]);
    const one = await api('GET', `/mappings/${mappingId}/files/${encodeURIComponent(deleted.id)}`);
    expectStatus(one, 200);
    assert.deepEqual(one.body, deleted);
    const served = await content(deleted.id);
    assert.equal(served.status, 200);
    assert.equal(await served.text(), 'kept after deletion');
    assertError(await api('GET', `/mappings/${mappingId}/files?deleted=yes`), 400, 'invalid_request');
  });

  it('records a file over MAX_FILE_BYTES and counts it as a rejection (too_large); its content is not copied', async () => {
    h.emulator.addFile(account.accountId, '/Site/Tower model.ifc', { seed: 7, size: MAX_FILE_BYTES + 1 });
    h.emulator.resetCalls();
    expectStatus(await api('POST', `/mappings/${mappingId}/sync`), 202);
    const status = await eventually(async () => {
      const res = await api('GET', `/mappings/${mappingId}`);
      expectStatus(res, 200);
      assert.equal(res.body.counts.rejections, 1);
      assert.equal(res.body.counts.contents.failed, 1);
      return res.body;
    }, 30_000);
    mappingResponse.parse(status);
    const rejections = await api('GET', `/mappings/${mappingId}/rejections`);
    expectStatus(rejections, 200);
    assert.deepEqual(
      rejections.body.rejections.map((r: { kind: string; name: string }) => [r.kind, r.name]),
      [['too_large', 'Tower model.ifc']],
    );
    assert.match(
      rejections.body.rejections[0].reason,
      new RegExp(`${MAX_FILE_BYTES + 1} bytes.*MAX_FILE_BYTES`, 'u'),
    );
    const model = (await listFiles(mappingId)).find((f) => f.name === 'Tower model.ifc');
    assert.ok(model);
    assert.equal(model.contentState, 'failed');
    const served = await content(model.id);
    assert.equal(served.status, 409);
    const body = (await served.json()) as { error: { code: string; details: { reason: string } } };
    assert.deepEqual([body.error.code, body.error.details.reason], ['content_failed', 'too_large']);
    assert.equal(h.emulator.calls().byRoute['files/download'] ?? 0, 0, 'not downloaded');
  });

  it('relists under a new policy: a name allowed now and a file that fits the raised MAX_FILE_BYTES are synced, their rejections gone', async () => {
    h.emulator.addFile(account.accountId, '/Site/Budget 50%.xlsx', { content: 'budget' });
    h.emulator.addFile(account.accountId, '/Site/Point cloud.e57', { seed: 8, size: 2 * MAX_FILE_BYTES + 1 });
    expectStatus(await api('POST', `/mappings/${mappingId}/sync`), 202);
    const rejectedNames = async () =>
      ((await api('GET', `/mappings/${mappingId}/rejections`)).body.rejections as { name: string }[]).map((r) => r.name).sort();
    await eventually(async () => assert.deepEqual(await rejectedNames(), ['Budget 50%.xlsx', 'Point cloud.e57', 'Tower model.ifc']), 30_000);

    await h.restartWorker({ MAX_FILE_BYTES: String(2 * MAX_FILE_BYTES), SPECIAL_CHARACTERS: '\\:*?"<>|#&{}~' });
    expectStatus(await api('POST', `/mappings/${mappingId}/sync`), 202);
    const synced = await eventually(async () => {
      const found = (await listFiles(mappingId)).filter((f) => ['Budget 50%.xlsx', 'Tower model.ifc'].includes(f.name));
      assert.deepEqual(found.map((f) => [f.name, f.contentState]).sort(), [['Budget 50%.xlsx', 'stored'], ['Tower model.ifc', 'stored']]);
      return found;
    }, 60_000);
    // Listed again, and still over the raised limit: still a rejection, its bytes never downloaded.
    await eventually(async () => assert.deepEqual(await rejectedNames(), ['Point cloud.e57']), 30_000);
    for (const file of synced) {
      const res = await content(file.id);
      assert.ok(Buffer.from(await res.arrayBuffer()).equals(await dropboxBytes(`/Site/${file.name}`)), file.name);
    }
    const status = await api('GET', `/mappings/${mappingId}`);
    assert.equal(status.body.counts.rejections, 1);
    assert.equal(status.body.counts.contents.failed, 1);
  });

  it('breaks the connection, rather than ending the body early, when stored bytes run out mid-file', async () => {
    const nine = files.find((f) => f.name === 'nine.bin');
    assert.ok(nine);
    const stored = await h.db.collection<{ _id: string; storedFileId?: string }>('contents').findOne({ fileRecordId: { $exists: true }, rev: nine.rev, state: 'stored' });
    assert.ok(stored?.storedFileId, 'the stored upload of nine.bin');
    // Its last chunks gone (as a replaced rev's bytes go an hour after the new one is stored).
    const chunks = h.db.collection<{ files_id: string; n: number }>('file_contents.chunks');
    assert.ok((await chunks.deleteMany({ files_id: stored.storedFileId, n: { $gte: 4 } })).deletedCount > 0);
    const logged = h.logLines.length;
    const res = await content(nine.id);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-length'), String(NINE_MIB));
    await assert.rejects(res.arrayBuffer(), 'a short body is an error, not a complete file');
    // Broken off by the service, which says why (not by its keep-alive timeout, seconds later).
    const said = h.logLines.slice(logged).find((line) => line.includes('file content stream failed'));
    assert.ok(said, 'the failure is logged');
    assert.match(said, /ended after \d+ of 9437184 bytes/u);
  });
});
