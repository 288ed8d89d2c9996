import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import { type DropboxEmulator, startDropboxEmulator } from '../../src/dev/dropboxEmulator/index';

/** Dropbox's documented content hash, written out here independently of the emulator's own. */
function dropboxHash(bytes: Buffer): string {
  const outer = createHash('sha256');
  for (let at = 0; at < bytes.length; at += 4 * 1024 * 1024) {
    outer.update(createHash('sha256').update(bytes.subarray(at, at + 4 * 1024 * 1024)).digest());
  }
  return outer.digest('hex');
}

describe('Dropbox emulator: /2/files/download', () => {
  let emu: DropboxEmulator;
  let accountId: string;
  let token: string;
  const download = (arg: unknown, headers: Record<string, string> = {}, bearer = token) =>
    fetch(`${emu.url}/2/files/download`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${bearer}`, 'Dropbox-API-Arg': JSON.stringify(arg), ...headers },
    });

  void before(async () => {
    emu = await startDropboxEmulator({ seed: 7 });
  });
  void after(async () => {
    await emu.close();
  });
  void beforeEach(() => {
    emu.reset();
    accountId = emu.addAccount({ email: 'ann@example.com' }).accountId;
    token = emu.issueToken(accountId);
  });

  it('sends the bytes, with the metadata (content_hash as Dropbox documents it) in Dropbox-API-Result', async () => {
    emu.addFile(accountId, '/Docs/Kaivanto ä ö.txt', { content: 'hello, site' });
    const res = await download({ path: '/docs/kaivanto ä ö.txt' });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/octet-stream');
    const body = Buffer.from(await res.arrayBuffer());
    assert.equal(body.toString(), 'hello, site');
    const header = res.headers.get('dropbox-api-result') ?? '';
    assert.match(header, /^[\x20-\x7e]+$/u, 'the header is ASCII');
    const meta = JSON.parse(header) as Record<string, unknown>;
    assert.equal(meta['name'], 'Kaivanto ä ö.txt');
    assert.equal(meta['content_hash'], dropboxHash(body));
    assert.equal(meta['size'], body.length);
  });

  it('generates a 9 MiB file from a seed: three hash blocks, the same hash in listings and downloads', async () => {
    const size = 9 * 1024 * 1024;
    const listed = emu.addFile(accountId, '/big.bin', { seed: 3, size });
    const body = Buffer.from(await (await download({ path: '/big.bin' })).arrayBuffer());
    assert.equal(body.length, size);
    assert.equal(listed['content_hash'], dropboxHash(body));
    const again = Buffer.from(await (await download({ path: listed['id'] })).arrayBuffer());
    assert.ok(again.equals(body), 'the same seed gives the same bytes');
    const other = emu.addFile(accountId, '/other.bin', { seed: 4, size });
    assert.notEqual(other['content_hash'], listed['content_hash']);
  });

  it('answers a Range request with 206 and the slice, and 416 past the end', async () => {
    emu.addFile(accountId, '/r.bin', { seed: 1, size: 100_000 });
    const whole = Buffer.from(await (await download({ path: '/r.bin' })).arrayBuffer());
    const res = await download({ path: '/r.bin' }, { Range: 'bytes=70001-80000' });
    assert.equal(res.status, 206);
    assert.equal(res.headers.get('content-range'), 'bytes 70001-80000/100000');
    assert.ok(Buffer.from(await res.arrayBuffer()).equals(whole.subarray(70001, 80001)));
    const tail = await download({ path: '/r.bin' }, { Range: 'bytes=-7' });
    assert.ok(Buffer.from(await tail.arrayBuffer()).equals(whole.subarray(100_000 - 7)));
    const past = await download({ path: '/r.bin' }, { Range: 'bytes=100000-' });
    assert.equal(past.status, 416);
  });

  it('downloads an earlier version by rev:, after the file changed', async () => {
    const first = emu.addFile(accountId, '/v.txt', { content: 'first' });
    emu.modifyFile(accountId, '/v.txt', { content: 'second version' });
    const res = await download({ path: `rev:${String(first['rev'])}` });
    assert.equal(Buffer.from(await res.arrayBuffer()).toString(), 'first');
    const meta = JSON.parse(res.headers.get('dropbox-api-result') ?? '{}') as Record<string, unknown>;
    assert.equal(meta['rev'], first['rev']);
    assert.equal(meta['content_hash'], first['content_hash']);
    const current = await download({ path: '/v.txt' });
    assert.equal(Buffer.from(await current.arrayBuffer()).toString(), 'second version');
  });

  it('refuses a missing path, a folder, a token without files.content.read, and a missing argument', async () => {
    emu.addFolder(accountId, '/Folder');
    const missing = await download({ path: '/nope.pdf' });
    assert.equal(missing.status, 409);
    assert.deepEqual(((await missing.json()) as { error: unknown }).error, { '.tag': 'path', path: { '.tag': 'not_found' } });
    const folder = await download({ path: '/Folder' });
    assert.equal(folder.status, 409);
    assert.match(((await folder.json()) as { error_summary: string }).error_summary, /^path\/not_file\//u);
    const metadataOnly = emu.issueToken(accountId, { scopes: ['account_info.read', 'files.metadata.read'] });
    const noScope = await download({ path: '/nope.pdf' }, {}, metadataOnly);
    assert.equal(noScope.status, 401);
    assert.deepEqual(((await noScope.json()) as { error: unknown }).error, {
      '.tag': 'missing_scope',
      required_scope: 'files.content.read',
    });
    const noArg = await fetch(`${emu.url}/2/files/download`, { method: 'POST', headers: { Authorization: `Bearer ${token}` } });
    assert.equal(noArg.status, 400);
  });

  it('corrupts exactly the downloads it was asked to, and injects faults as on other routes', async () => {
    const meta = emu.addFile(accountId, '/c.txt', { content: 'exact bytes' });
    emu.corruptNextDownloads(1);
    const bad = Buffer.from(await (await download({ path: '/c.txt' })).arrayBuffer());
    assert.notEqual(dropboxHash(bad), meta['content_hash']);
    const good = Buffer.from(await (await download({ path: '/c.txt' })).arrayBuffer());
    assert.equal(dropboxHash(good), meta['content_hash']);
    emu.failNext({ status: 503, route: 'files/download' });
    assert.equal((await download({ path: '/c.txt' })).status, 503);
  });
});
