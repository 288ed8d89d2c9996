import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { Dropbox, files } from 'dropbox';
import { type DropboxEmulator, sdkClientFor, seedDemo, startDropboxEmulator } from '../../src/dev/dropboxEmulator/index';

interface SdkError {
  status: number;
  headers: Headers;
  error: unknown;
}

/** The SDK's rejection for a call that must fail (a DropboxResponseError). */
async function sdkError(call: Promise<unknown>): Promise<SdkError> {
  try {
    await call;
  } catch (err) {
    assert.equal((err as Error).name, 'DropboxResponseError');
    return err as SdkError;
  }
  return assert.fail('the call succeeded');
}

async function listAll(dbx: Dropbox, arg: files.ListFolderArg | { cursor: string }) {
  let page = ('cursor' in arg ? await dbx.filesListFolderContinue(arg) : await dbx.filesListFolder(arg))
    .result;
  const pages = [page];
  while (page.has_more) {
    page = (await dbx.filesListFolderContinue({ cursor: page.cursor })).result;
    pages.push(page);
  }
  return { pages, entries: pages.flatMap((p) => p.entries), cursor: page.cursor };
}

const names = (entries: files.ListFolderResult['entries']) => entries.map((e) => `${e['.tag']}:${e.name}`);

describe('Dropbox emulator, through the official SDK', () => {
  let emu: DropboxEmulator;
  const sdk = (token: string, pathRoot?: string) =>
    sdkClientFor(emu.url, token, pathRoot ? { pathRoot } : {});
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${emu.url}${path}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  function newAccount(
    input: Parameters<DropboxEmulator['addAccount']>[0] = { email: 'ann@example.com', name: 'Ann Builder' },
  ) {
    const account = emu.addAccount(input);
    const token = emu.issueToken(account.accountId);
    return { ...account, token, dbx: sdk(token) };
  }

  void before(async () => {
    emu = await startDropboxEmulator({ seed: 42 });
  });
  void after(async () => {
    await emu.close();
  });
  void beforeEach(() => emu.reset());

  describe('users/get_current_account', () => {
    it('returns the token owner with name, email, account type and user root info', async () => {
      const ann = newAccount();
      const { status, result } = await ann.dbx.usersGetCurrentAccount();
      assert.equal(status, 200);
      assert.equal(result.account_id, ann.accountId);
      assert.match(result.account_id, /^dbid:/u);
      assert.equal(result.email, 'ann@example.com');
      assert.deepEqual(result.name, {
        given_name: 'Ann',
        surname: 'Builder',
        familiar_name: 'Ann',
        display_name: 'Ann Builder',
        abbreviated_name: 'AB',
      });
      assert.equal(result.disabled, false);
      assert.equal(result.account_type['.tag'], 'basic');
      assert.equal(result.root_info['.tag'], 'user');
      assert.equal(result.root_info.root_namespace_id, result.root_info.home_namespace_id);
      assert.equal(result.team, undefined);
    });

    it('accepts the literal JSON null body and an empty body', async () => {
      const { token } = newAccount();
      const auth = { Authorization: `Bearer ${token}` };
      assert.equal((await post('/2/users/get_current_account', 'null', auth)).status, 200);
      const empty = await fetch(`${emu.url}/2/users/get_current_account`, { method: 'POST', headers: auth });
      assert.equal(empty.status, 200);
    });

    it('gives a team account team root info and honours Dropbox-API-Path-Root', async () => {
      const bob = newAccount({
        email: 'bob@builders.example',
        name: 'Bob Team',
        team: { name: 'Builders Oy' },
      });
      const { result } = await bob.dbx.usersGetCurrentAccount();
      assert.equal(result.root_info['.tag'], 'team');
      assert.equal(result.root_info.root_namespace_id, bob.rootNamespaceId);
      assert.notEqual(result.root_info.root_namespace_id, result.root_info.home_namespace_id);
      assert.equal((result.root_info as { home_path?: string }).home_path, '/Bob Team');
      assert.equal(result.team?.name, 'Builders Oy');
      assert.equal(result.account_type['.tag'], 'business');

      emu.addFile(bob.accountId, '/Team Projects/plan.pdf');
      const rooted = sdk(bob.token, JSON.stringify({ '.tag': 'root', root: bob.rootNamespaceId }));
      assert.deepEqual(names((await rooted.filesListFolder({ path: '/Team Projects' })).result.entries), [
        'file:plan.pdf',
      ]);

      const wrongRoot = await sdkError(
        sdk(bob.token, JSON.stringify({ '.tag': 'root', root: '1' })).filesListFolder({ path: '' }),
      );
      assert.equal(wrongRoot.status, 422);
      assert.deepEqual(wrongRoot.error, {
        error_summary: 'invalid_root/...',
        error: { '.tag': 'invalid_root', invalid_root: result.root_info },
      });
      const foreign = sdk(bob.token, JSON.stringify({ '.tag': 'namespace_id', namespace_id: '1' }));
      const noPermission = await sdkError(foreign.filesListFolder({ path: '' }));
      assert.equal(noPermission.status, 422);
      assert.deepEqual(noPermission.error, {
        error_summary: 'no_permission/...',
        error: { '.tag': 'no_permission' },
      });
    });
  });

  describe('files/list_folder', () => {
    it('lists the files and the subfolder directly inside a folder, not what the subfolder holds', async () => {
      const demo = seedDemo(emu);
      const { result } = await sdk(emu.issueToken(demo.accountId)).filesListFolder({ path: demo.folderPath });
      assert.equal(result.has_more, false);
      assert.equal(result.entries.filter((e) => e['.tag'] === 'file').length, 8);
      assert.ok(names(result.entries).includes('folder:Photos'));
      assert.ok(names(result.entries).includes('file:plan#2?.pdf'));
      assert.ok(names(result.entries).includes('file:Budget 50%.xlsx'));
      assert.ok(!names(result.entries).includes('file:IMG_0001.jpg'));
      const file = result.entries.find((e) => e.name === 'Kaivanto ä ö.dwg') as files.FileMetadataReference;
      assert.equal(file.path_display, '/Projects/Site A/Kaivanto ä ö.dwg');
      assert.equal(file.path_lower, '/projects/site a/kaivanto ä ö.dwg');
      assert.match(file.id, /^id:[A-Za-z0-9_-]{22}$/u);
      assert.match(file.rev, /^[0-9a-f]{9,}$/u);
      assert.match(file.content_hash ?? '', /^[0-9a-f]{64}$/u);
      assert.match(file.server_modified, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/u);
      assert.equal(typeof file.size, 'number');
      assert.equal(file.is_downloadable, true);
      const folder = result.entries.find((e) => e.name === 'Photos') as files.FolderMetadataReference;
      assert.deepEqual(Object.keys(folder).sort(), ['.tag', 'id', 'name', 'path_display', 'path_lower']);
    });

    it('pages 5,000 entries with limit 2000 in three pages, each entry once', async () => {
      const ann = newAccount();
      emu.bulkAddFiles(ann.accountId, '/Big', 5000);
      const { pages, entries } = await listAll(ann.dbx, { path: '/Big', limit: 2000 });
      assert.deepEqual(
        pages.map((p) => [p.entries.length, p.has_more]),
        [
          [2000, true],
          [2000, true],
          [1000, false],
        ],
      );
      const ids = new Set(entries.map((e) => (e as files.FileMetadataReference).id));
      assert.equal(ids.size, 5000);
      assert.equal(new Set(entries.map((e) => e.name)).size, 5000);
    });

    it('keeps a paged listing consistent when a file changes between pages', async () => {
      const ann = newAccount();
      emu.bulkAddFiles(ann.accountId, '/Big', 30, { prefix: 'f', extension: '.txt' });
      const first = (await ann.dbx.filesListFolder({ path: '/Big', limit: 10 })).result;
      emu.modifyFile(ann.accountId, '/Big/f25.txt');
      emu.remove(ann.accountId, '/Big/f26.txt');
      const rest = [];
      let page = first;
      while (page.has_more) {
        page = (await ann.dbx.filesListFolderContinue({ cursor: page.cursor })).result;
        rest.push(...page.entries);
      }
      const all = names([...first.entries, ...rest]);
      assert.equal(all.filter((n) => n === 'file:f25.txt').length, 1);
      assert.ok(all.includes('deleted:f26.txt'));
      assert.equal(all.filter((n) => n.startsWith('file:')).length, 29);
    });

    it('matches paths case-insensitively and keeps the stored casing for display', async () => {
      const demo = seedDemo(emu);
      const { result } = await sdk(emu.issueToken(demo.accountId)).filesListFolder({ path: '/PROJECTS/site a' });
      assert.equal(result.entries.length, 9);
      assert.ok(result.entries.every((e) => e.path_display?.startsWith('/Projects/Site A/')));
      const meta = await sdk(emu.issueToken(demo.accountId)).filesGetMetadata({ path: '/projects/SITE A/foundation PLAN.pdf' });
      assert.equal(meta.result.path_display, '/Projects/Site A/Foundation plan.pdf');
    });

    it('answers 409 path/not_found and path/not_folder with Dropbox bodies', async () => {
      const demo = seedDemo(emu);
      const dbx = sdk(emu.issueToken(demo.accountId));
      const missing = await sdkError(dbx.filesListFolder({ path: '/Nope' }));
      assert.equal(missing.status, 409);
      assert.deepEqual(missing.error, {
        error_summary: 'path/not_found/..',
        error: { '.tag': 'path', path: { '.tag': 'not_found' } },
      });
      const notFolder = await sdkError(dbx.filesListFolder({ path: '/Projects/Site A/Foundation plan.pdf' }));
      assert.equal(notFolder.status, 409);
      assert.deepEqual(notFolder.error, {
        error_summary: 'path/not_folder/..',
        error: { '.tag': 'path', path: { '.tag': 'not_folder' } },
      });
      const metaMissing = await sdkError(dbx.filesGetMetadata({ path: '/Nope.pdf' }));
      assert.equal(metaMissing.status, 409);
    });

    it('answers 400 in plain text for bad arguments and malformed JSON', async () => {
      const { token, dbx } = newAccount();
      const root = await sdkError(dbx.filesListFolder({ path: '/' }));
      assert.equal(root.status, 400);
      assert.match(
        String(root.error),
        /^Error in call to API function "files\/list_folder": .*empty string/u,
      );
      for (const limit of [0, 2001])
        assert.equal((await sdkError(dbx.filesListFolder({ path: '', limit }))).status, 400);
      const garbage = await post('/2/files/list_folder', '{"path": ', { Authorization: `Bearer ${token}` });
      assert.equal(garbage.status, 400);
      assert.match(garbage.headers.get('content-type') ?? '', /^text\/plain/u);
      assert.match(await garbage.text(), /could not decode input as JSON/u);
      const noAuth = await post('/2/files/list_folder', { path: '' });
      assert.equal(noAuth.status, 400);
      assert.equal((await sdkError(dbx.filesListFolderContinue({ cursor: 'not-a-cursor' }))).status, 400);
    });

    it('lists recursively with the folder itself first and leaves out non-downloadable files on request', async () => {
      const ann = newAccount();
      emu.addFile(ann.accountId, '/A/one.pdf');
      emu.addFile(ann.accountId, '/A/B/two.pdf');
      emu.addFile(ann.accountId, '/A/B/C/three.pdf');
      emu.addFile(ann.accountId, '/A/doc.gdoc', { isDownloadable: false });
      emu.addFile(ann.accountId, '/Other/four.pdf');
      const { entries, cursor } = await listAll(ann.dbx, { path: '/a', recursive: true, limit: 2 });
      assert.deepEqual(
        entries.map((e) => e.path_lower),
        ['/a', '/a/one.pdf', '/a/b', '/a/b/two.pdf', '/a/b/c', '/a/b/c/three.pdf', '/a/doc.gdoc'],
      );
      const plain = await ann.dbx.filesListFolder({ path: '/A', include_non_downloadable_files: false });
      assert.deepEqual(names(plain.result.entries).sort(), ['file:one.pdf', 'folder:B']);

      emu.move(ann.accountId, '/A/B', '/A/Moved');
      const changes = (await listAll(ann.dbx, { cursor })).entries;
      assert.deepEqual(
        changes.map((e) => `${e['.tag']}:${e.path_lower}`),
        [
          'deleted:/a/b',
          'folder:/a/moved',
          'file:/a/moved/two.pdf',
          'folder:/a/moved/c',
          'file:/a/moved/c/three.pdf',
        ],
      );
    });

    it('pages through 100,000 files', async () => {
      const ann = newAccount();
      emu.bulkAddFiles(ann.accountId, '/Huge', 100_000);
      const { pages, entries } = await listAll(ann.dbx, { path: '/Huge', limit: 2000 });
      assert.equal(pages.length, 50);
      assert.equal(new Set(entries.map((e) => e.name)).size, 100_000);
    });
  });

  describe('files/list_folder/continue and get_latest_cursor', () => {
    it('returns additions, modifications with a new rev, renames and deletions since the cursor', async () => {
      const demo = seedDemo(emu);
      const dbx = sdk(emu.issueToken(demo.accountId));
      const listed = (await dbx.filesListFolder({ path: demo.folderPath })).result;
      const before = (name: string) =>
        listed.entries.find((e) => e.name === name) as files.FileMetadataReference;
      const dir = demo.folderPath;
      emu.addFile(demo.accountId, `${dir}/New drawing.dwg`);
      emu.modifyFile(demo.accountId, `${dir}/Foundation plan.pdf`);
      emu.move(demo.accountId, `${dir}/Safety plan.docx`, `${dir}/Safety plan v2.docx`);
      emu.move(demo.accountId, `${dir}/Rebar schedule.csv`, '/Archive/Rebar schedule.csv');
      emu.remove(demo.accountId, `${dir}/Site survey 2024.xlsx`);
      emu.addFile(demo.accountId, '/Elsewhere/unrelated.pdf');

      const changes = (await dbx.filesListFolderContinue({ cursor: listed.cursor })).result;
      assert.equal(changes.has_more, false);
      assert.deepEqual(names(changes.entries), [
        'file:New drawing.dwg',
        'file:Foundation plan.pdf',
        'deleted:Safety plan.docx',
        'file:Safety plan v2.docx',
        'deleted:Rebar schedule.csv',
        'deleted:Site survey 2024.xlsx',
      ]);
      const modified = changes.entries[1] as files.FileMetadataReference;
      const old = before('Foundation plan.pdf');
      assert.equal(modified.id, old.id);
      assert.notEqual(modified.rev, old.rev);
      assert.notEqual(modified.content_hash, old.content_hash);
      assert.notEqual(modified.server_modified, old.server_modified);
      assert.equal((changes.entries[3] as files.FileMetadataReference).id, before('Safety plan.docx').id);
      assert.deepEqual(changes.entries[2], {
        '.tag': 'deleted',
        name: 'Safety plan.docx',
        path_lower: '/projects/site a/safety plan.docx',
        path_display: '/Projects/Site A/Safety plan.docx',
      });

      const quiet = (await dbx.filesListFolderContinue({ cursor: changes.cursor })).result;
      assert.deepEqual([quiet.entries.length, quiet.has_more], [0, false]);
      const archived = await dbx.filesGetMetadata({ path: before('Rebar schedule.csv').id });
      assert.equal(archived.result.path_display, '/Archive/Rebar schedule.csv');
    });

    it('gives a cursor at the current state that reports only later changes', async () => {
      const ann = newAccount();
      emu.addFile(ann.accountId, '/Site/old.pdf');
      const latest = await ann.dbx.filesListFolderGetLatestCursor({ path: '/Site' });
      assert.deepEqual(Object.keys(latest.result), ['cursor']);
      emu.addFile(ann.accountId, '/Site/new.pdf');
      const changes = await ann.dbx.filesListFolderContinue({ cursor: latest.result.cursor });
      assert.deepEqual(names(changes.result.entries), ['file:new.pdf']);
    });

    it('answers 409 reset for cursors older than a forced reset, and a fresh listing works', async () => {
      const ann = newAccount();
      emu.addFile(ann.accountId, '/Site/a.pdf');
      const { cursor } = (await ann.dbx.filesListFolder({ path: '/Site' })).result;
      emu.forceCursorReset(ann.accountId, '/site');
      const reset = await sdkError(ann.dbx.filesListFolderContinue({ cursor }));
      assert.equal(reset.status, 409);
      assert.deepEqual(reset.error, { error_summary: 'reset/...', error: { '.tag': 'reset' } });
      const fresh = (await ann.dbx.filesListFolder({ path: '/Site' })).result;
      assert.equal((await ann.dbx.filesListFolderContinue({ cursor: fresh.cursor })).status, 200);
      emu.forceCursorReset(ann.accountId);
      assert.equal((await sdkError(ann.dbx.filesListFolderContinue({ cursor: fresh.cursor }))).status, 409);
    });

    it('answers 409 path/not_found when the listed folder was deleted; get_metadata can show it deleted', async () => {
      const ann = newAccount();
      emu.addFile(ann.accountId, '/Site/a.pdf');
      const { cursor } = (await ann.dbx.filesListFolder({ path: '/Site' })).result;
      emu.remove(ann.accountId, '/Site');
      const gone = await sdkError(ann.dbx.filesListFolderContinue({ cursor }));
      assert.deepEqual(
        [gone.status, (gone.error as { error_summary: string }).error_summary],
        [409, 'path/not_found/..'],
      );
      assert.equal((await sdkError(ann.dbx.filesGetMetadata({ path: '/Site' }))).status, 409);
      const deleted = await ann.dbx.filesGetMetadata({ path: '/site', include_deleted: true });
      assert.deepEqual(deleted.result, {
        '.tag': 'deleted',
        name: 'Site',
        path_lower: '/site',
        path_display: '/Site',
      });
    });
  });

  describe('tokens and scopes', () => {
    it('answers 401 expired_access_token for an expired token', async () => {
      const ann = newAccount();
      emu.expireToken(ann.token);
      const err = await sdkError(ann.dbx.usersGetCurrentAccount());
      assert.equal(err.status, 401);
      assert.deepEqual(err.error, {
        error_summary: 'expired_access_token/...',
        error: { '.tag': 'expired_access_token' },
      });
    });

    it('answers 401 invalid_access_token for an unknown or revoked token', async () => {
      const ann = newAccount();
      const unknown = await sdkError(sdk('sl.made-up-token-of-no-account').filesListFolder({ path: '' }));
      assert.equal(unknown.status, 401);
      assert.deepEqual(unknown.error, {
        error_summary: 'invalid_access_token/...',
        error: { '.tag': 'invalid_access_token' },
      });
      emu.revokeToken(ann.token);
      assert.equal((await sdkError(ann.dbx.usersGetCurrentAccount())).status, 401);
      // A value that cannot be a token at all is a 400, in plain text.
      const malformed = await sdkError(sdk('sl.cut').usersGetCurrentAccount());
      assert.equal(malformed.status, 400);
      assert.match(String(malformed.error), /The given OAuth 2 access token is malformed\./u);
    });

    it('answers 401 missing_scope naming files.metadata.read for a token without it', async () => {
      const ann = newAccount();
      const accountOnly = sdk(emu.issueToken(ann.accountId, { scopes: ['account_info.read'] }));
      assert.equal((await accountOnly.usersGetCurrentAccount()).status, 200);
      const err = await sdkError(accountOnly.filesListFolder({ path: '' }));
      assert.equal(err.status, 401);
      assert.deepEqual(err.error, {
        error_summary: 'missing_scope/...',
        error: { '.tag': 'missing_scope', required_scope: 'files.metadata.read' },
      });
    });

    it('expires a token after expiresInMs on the emulator clock', async () => {
      let clock = Date.parse('2025-01-01T00:00:00Z');
      const timed = await startDropboxEmulator({ now: () => clock });
      try {
        const { accountId } = timed.addAccount({ email: 't@example.com' });
        const dbx = sdkClientFor(timed.url, timed.issueToken(accountId, { expiresInMs: 60_000 }));
        assert.equal((await dbx.usersGetCurrentAccount()).status, 200);
        clock += 60_000;
        assert.equal((await sdkError(dbx.usersGetCurrentAccount())).status, 401);
      } finally {
        await timed.close();
      }
    });
  });

  describe('faults', () => {
    it('answers 429 with Retry-After and records a call that comes back too early as a violation', async () => {
      let clock = Date.parse('2025-01-01T00:00:00Z');
      const timed = await startDropboxEmulator({ now: () => clock });
      try {
        const { accountId } = timed.addAccount({ email: 't@example.com' });
        const token = timed.issueToken(accountId);
        const dbx = sdkClientFor(timed.url, token);
        timed.failNext({ status: 429, retryAfterSeconds: 3 });
        const limited = await sdkError(dbx.filesListFolder({ path: '' }));
        assert.equal(limited.status, 429);
        assert.equal(limited.headers.get('retry-after'), '3');
        assert.deepEqual(limited.error, {
          error_summary: 'too_many_requests/...',
          error: { reason: { '.tag': 'too_many_requests' }, retry_after: 3 },
        });
        clock += 1000;
        const early = await sdkError(dbx.filesListFolder({ path: '' }));
        assert.equal(early.status, 429);
        assert.equal(early.headers.get('retry-after'), '2');
        assert.equal(timed.violations().length, 1);
        assert.deepEqual(
          { ...timed.violations()[0], at: undefined },
          {
            token,
            route: 'files/list_folder',
            at: undefined,
            retryAllowedAt: '2025-01-01T00:00:03.000Z',
            earlyByMs: 2000,
          },
        );
        clock += 2000;
        assert.equal((await dbx.filesListFolder({ path: '' })).status, 200);
        assert.equal(timed.violations().length, 1);
      } finally {
        await timed.close();
      }
    });

    it("holds every token of the same user and app after a 429, and no other user's or app's", async () => {
      let clock = Date.parse('2025-01-01T00:00:00Z');
      const timed = await startDropboxEmulator({ now: () => clock });
      try {
        const { accountId } = timed.addAccount({ email: 'limit@example.com' });
        const other = timed.addAccount({ email: 'other@example.com' }).accountId;
        const app = timed.registerApp({ redirectUris: [] });
        const otherApp = timed.registerApp({ redirectUris: [] });
        const refreshToken = timed.grantOffline(app.appKey, accountId);
        const secrets = new Map([app, otherApp].map((a) => [a.appKey, a.appSecret]));
        const tokenOf = async (appKey: string, grant: string) => {
          const res = await fetch(`${timed.url}/oauth2/token`, {
            method: 'POST',
            headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: grant, client_id: appKey, client_secret: secrets.get(appKey)! }).toString(),
          });
          assert.equal(res.status, 200);
          return ((await res.json()) as { access_token: string }).access_token;
        };
        const first = await tokenOf(app.appKey, refreshToken);
        timed.failNext({ status: 429, retryAfterSeconds: 3 });
        assert.equal((await sdkError(sdkClientFor(timed.url, first).usersGetCurrentAccount())).status, 429);
        // A refreshed token is the same user and app: refused, and the early call recorded.
        const refreshed = await tokenOf(app.appKey, refreshToken);
        assert.notEqual(refreshed, first);
        assert.equal((await sdkError(sdkClientFor(timed.url, refreshed).usersGetCurrentAccount())).status, 429);
        assert.deepEqual(timed.violations().map((v) => v.token), [refreshed]);
        // Another app of the same user, and the same app for another user, are not held.
        const otherAppToken = await tokenOf(otherApp.appKey, timed.grantOffline(otherApp.appKey, accountId));
        assert.equal((await sdkClientFor(timed.url, otherAppToken).usersGetCurrentAccount()).status, 200);
        const otherUserToken = await tokenOf(app.appKey, timed.grantOffline(app.appKey, other));
        assert.equal((await sdkClientFor(timed.url, otherUserToken).usersGetCurrentAccount()).status, 200);
        clock += 3000;
        assert.equal((await sdkClientFor(timed.url, refreshed).usersGetCurrentAccount()).status, 200);
        assert.equal(timed.violations().length, 1);
      } finally {
        await timed.close();
      }
    });

    it('injects 5xx at roughly the set rate, the same way for the same seed', async () => {
      const outcomes = async (seed: number) => {
        const seeded = await startDropboxEmulator({ seed });
        try {
          const { accountId } = seeded.addAccount({ email: 's@example.com' });
          const dbx = sdkClientFor(seeded.url, seeded.issueToken(accountId));
          seeded.setFaults({ serverErrorRate: 0.3 });
          const statuses: number[] = [];
          for (let i = 0; i < 200; i++) {
            statuses.push(
              await dbx.filesListFolder({ path: '' }).then(
                (r) => r.status,
                (e: SdkError) => e.status,
              ),
            );
          }
          return statuses;
        } finally {
          await seeded.close();
        }
      };
      const first = await outcomes(7);
      const failures = first.filter((s) => s >= 500);
      assert.ok(failures.length > 40 && failures.length < 80, `${failures.length} of 200 failed`);
      assert.ok(failures.every((s) => s === 500 || s === 503));
      assert.deepEqual(await outcomes(7), first);
    });

    it('adds latency to /2/ calls and leaves the control routes alone', async () => {
      const ann = newAccount();
      emu.setFaults({ latencyMs: 150, serverErrorRate: 1 });
      const started = Date.now();
      assert.equal((await sdkError(ann.dbx.usersGetCurrentAccount())).status >= 500, true);
      assert.ok(Date.now() - started >= 140);
      const health = await fetch(`${emu.url}/_control/health`);
      assert.equal(health.status, 200);
      emu.clearFaults();
      assert.equal((await ann.dbx.usersGetCurrentAccount()).status, 200);
    });
  });

  describe('control interface', () => {
    it('counts calls per route and per token until the counts are reset', async () => {
      const ann = newAccount();
      const other = sdk(emu.issueToken(ann.accountId));
      await ann.dbx.usersGetCurrentAccount();
      await ann.dbx.filesListFolder({ path: '' });
      await other.filesListFolder({ path: '' });
      const calls = emu.calls();
      assert.equal(calls.total, 3);
      assert.deepEqual(calls.byRoute, { 'users/get_current_account': 1, 'files/list_folder': 2 });
      assert.equal(calls.byToken[ann.token], 2);
      assert.equal(calls.byTokenAndRoute['files/list_folder']?.[ann.token], 1);
      assert.deepEqual(calls.byStatus, { '200': 3 });
      emu.resetCalls();
      assert.equal(emu.calls().total, 0);
    });

    it('reset() forgets accounts, tokens and files', async () => {
      const ann = newAccount();
      emu.reset();
      assert.equal((await sdkError(ann.dbx.usersGetCurrentAccount())).status, 401);
      assert.deepEqual(emu.listAccounts(), []);
    });

    it('drives the emulator over HTTP under /_control', async () => {
      const json = async (res: Response) => {
        assert.ok(res.status < 300, `${res.status} ${await res.clone().text()}`);
        return res.status === 204 ? undefined : ((await res.json()) as Record<string, unknown>);
      };
      const control = (method: string, path: string, body?: unknown) =>
        fetch(`${emu.url}/_control${path}`, {
          method,
          headers: { 'Content-Type': 'application/json' },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        }).then(json);
      const account = (await control('POST', '/accounts', { email: 'http@example.com', name: 'Http User' }))!;
      const base = `/accounts/${encodeURIComponent(String(account['accountId']))}`;
      const { token } = (await control('POST', `${base}/tokens`, {})) as { token: string };
      const dbx = sdk(token);
      await control('POST', `${base}/folders`, { path: '/Site' });
      const added = (await control('POST', `${base}/files`, { path: '/Site/a.pdf', content: 'hello' }))!;
      assert.equal(added['size'], 5);
      await control('POST', `${base}/bulk`, { folder: '/Site', count: 3, prefix: 'bulk-' });
      const listed = (await dbx.filesListFolder({ path: '/Site' })).result;
      assert.deepEqual(names(listed.entries), [
        'file:a.pdf',
        'file:bulk-1.pdf',
        'file:bulk-2.pdf',
        'file:bulk-3.pdf',
      ]);

      const modified = (await control('POST', `${base}/files/modify`, {
        path: '/Site/a.pdf',
        content: 'hello again',
      }))!;
      assert.notEqual(modified['rev'], added['rev']);
      await control('POST', `${base}/move`, { from: '/Site/bulk-1.pdf', to: '/Site/renamed.pdf' });
      await control('POST', `${base}/delete`, { path: '/Site/bulk-2.pdf' });
      const changes = (await dbx.filesListFolderContinue({ cursor: listed.cursor })).result;
      assert.deepEqual(names(changes.entries), [
        'file:a.pdf',
        'deleted:bulk-1.pdf',
        'file:renamed.pdf',
        'deleted:bulk-2.pdf',
      ]);
      const entry = await control('GET', `${base}/entry?path=${encodeURIComponent('/site/RENAMED.pdf')}`);
      assert.equal(entry?.['path_display'], '/Site/renamed.pdf');

      await control('POST', `${base}/cursor-reset`, { path: '/Site' });
      assert.equal((await sdkError(dbx.filesListFolderContinue({ cursor: changes.cursor }))).status, 409);

      await control('PUT', '/faults', { serverErrorRate: 1, serverErrorStatuses: [503] });
      assert.equal((await sdkError(dbx.usersGetCurrentAccount())).status, 503);
      await control('DELETE', '/faults');
      await control('POST', '/faults/next', {
        status: 429,
        retryAfterSeconds: 30,
        route: 'files/get_metadata',
      });
      assert.equal((await dbx.usersGetCurrentAccount()).status, 200);
      assert.equal((await sdkError(dbx.filesGetMetadata({ path: '/Site/a.pdf' }))).status, 429);
      assert.equal((await sdkError(dbx.filesGetMetadata({ path: '/Site/a.pdf' }))).status, 429);
      const violations = await control('GET', '/violations');
      assert.equal(violations?.['count'], 1);
      const calls = await control('GET', '/calls');
      assert.equal((calls?.['byRoute'] as Record<string, number>)['files/get_metadata'], 2);
      await control('DELETE', '/calls');
      assert.equal((await control('GET', '/calls'))?.['total'], 0);

      // The 429 above holds this account's calls back for 30 s, whatever their token: another
      // account's token shows the expiry.
      const other = (await control('POST', '/accounts', { email: 'http2@example.com' }))!;
      const otherBase = `/accounts/${encodeURIComponent(String(other['accountId']))}`;
      const second = (await control('POST', `${otherBase}/tokens`, {})) as { token: string };
      await control('POST', `/tokens/expire`, { token: second.token });
      assert.equal((await sdkError(sdk(second.token).usersGetCurrentAccount())).status, 401);
      const demo = (await control('POST', '/seed-demo'))!;
      assert.equal(demo['email'], 'demo@example.com');
      const refreshed = await fetch(`${emu.url}/oauth2/token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'refresh_token',
          refresh_token: String(demo['refreshToken']),
          client_id: String(demo['appKey']),
        }).toString(),
      });
      const { access_token: demoToken } = (await refreshed.json()) as { access_token: string };
      assert.equal((await sdk(demoToken).filesListFolder({ path: String(demo['folderPath']) })).status, 200);
      await control('POST', '/reset');
      assert.deepEqual(await control('GET', '/accounts'), []);
      const refused = await fetch(`${emu.url}/_control/accounts`, { method: 'POST', body: '{}' });
      assert.equal(refused.status, 400);
    });
  });
});
