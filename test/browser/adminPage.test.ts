/**
 * The admin page in Chromium against `npm run dev`'s stack: an admin signs in with an API key,
 * logs in to Dropbox (a bad token first), browses and maps `/Projects/Site A`, watches its files
 * arrive, reads the two rejections, maps the skipped `Photos` from its hint, pauses, resumes and
 * unmaps. A member sees no tab; a project whose organization lacks the feature sees the help
 * page's message. Every view passes axe-core and is photographed into test-output/screenshots.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'puppeteer-core';
import { expectAccessible, launchBrowser, screenshot, waitForText } from './support/browser';
import { Client, Connection } from '@temporalio/client';
import { FOLDER_SYNC_WORKFLOW } from '../../src/workflows/definitions';
import { eventually } from '../support/eventually';
import { call, expectCall, startDevStack, type DevStack } from './support/devStack';

/** Small enough that a file over it is cheap for the emulator to make; the demo's files are under it. */
const MAX_FILE_BYTES = 16 * 1024 * 1024;

describe('the admin page in Chromium', () => {
  let stack: DevStack;
  let browser: Browser;
  let page: Page;
  let admin: { id: string; apiKey: string };
  let member: { id: string; apiKey: string };
  let demoToken: string;
  let projectId: string;
  const requestedUrls: string[] = [];
  /** "METHOD path" of every API request the page sent. */
  const apiRequests: string[] = [];
  const consoleErrors: string[] = [];

  before(async () => {
    [stack, browser] = await Promise.all([startDevStack({ MAX_FILE_BYTES: String(MAX_FILE_BYTES) }), launchBrowser()]);
    const api = (path: string) => `${stack.apiUrl}${path}`;
    const root = stack.rootKey;
    const org = await expectCall('POST', api('/v1/orgs'), root, { name: 'Harju Construction', features: { dropbox: true } }, 201);
    const orgOff = await expectCall('POST', api('/v1/orgs'), root, { name: 'Northwind Builders', features: { dropbox: false } }, 201);
    const project = await expectCall('POST', api(`/v1/orgs/${String(org.id)}/projects`), root, { name: 'Tower C' }, 201);
    const projectOff = await expectCall('POST', api(`/v1/orgs/${String(orgOff.id)}/projects`), root, { name: 'Harbour Depot' }, 201);
    projectId = String(project.id);
    admin = (await expectCall('POST', api('/v1/users'), root, { email: 'site.admin@harju.example' }, 201)) as typeof admin;
    member = (await expectCall('POST', api('/v1/users'), root, { email: 'site.member@harju.example' }, 201)) as typeof member;
    for (const [p, u, role] of [[projectId, admin.id, 'admin'], [String(projectOff.id), admin.id, 'admin'], [projectId, member.id, 'member']]) {
      await expectCall('PUT', api(`/v1/projects/${p}/members/${u}`), root, { role }, 200);
    }
    // The demo account: a fresh token for it, and a folder whose name the policy refuses.
    const accounts = (await call('GET', `${stack.emulatorUrl}/_control/accounts`, undefined)).body as unknown as { accountId: string; email: string }[];
    const demo = accounts.find((a) => a.email === 'demo@example.com');
    assert.ok(demo, JSON.stringify(accounts));
    demoToken = String((await expectCall('POST', `${stack.emulatorUrl}/_control/accounts/${demo.accountId}/tokens`, undefined, {}, 201)).token);
    await expectCall('POST', `${stack.emulatorUrl}/_control/accounts/${demo.accountId}/folders`, undefined, { path: '/Projects/Site #3' }, 201);
    // A direction control in a name: obeyed, "Tender\u202Efdp.exe" would read as "Tenderexe.pdf".
    await expectCall('POST', `${stack.emulatorUrl}/_control/accounts/${demo.accountId}/folders`, undefined, { path: '/Projects/Tender\u202Efdp.exe' }, 201);
    await expectCall('POST', `${stack.emulatorUrl}/_control/accounts/${demo.accountId}/files`, undefined, { path: '/Projects/Site A/Tower model.ifc', seed: 11, size: MAX_FILE_BYTES + 1 }, 201);
    // Dropbox's times have whole seconds: the diary must be newer than the model, not a tie.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    // Added seconds after the demo's files (seeded before the worker started): the newest file.
    await expectCall('POST', `${stack.emulatorUrl}/_control/accounts/${demo.accountId}/files`, undefined, { path: '/Projects/Site A/Site diary.txt', content: 'Concrete poured.' }, 201);

    page = await browser.newPage();
    page.on('request', (request) => {
      requestedUrls.push(request.url());
      const url = new URL(request.url());
      if (url.pathname.startsWith('/v1/')) apiRequests.push(`${request.method()} ${url.pathname}`);
    });
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    page.on('pageerror', (err) => consoleErrors.push(String(err)));
  });

  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  const byName = (role: string, name: string) => `::-p-aria([name="${name}"][role="${role}"])`;
  const demoAccountId = async () => {
    const accounts = (await call('GET', `${stack.emulatorUrl}/_control/accounts`, undefined)).body as unknown as { accountId: string; email: string }[];
    const demo = accounts.find((a) => a.email === 'demo@example.com');
    assert.ok(demo, JSON.stringify(accounts));
    return demo.accountId;
  };
  const click = async (role: string, name: string) => page.locator(byName(role, name)).click();
  const clearField = async (selector: string) =>
    page.$eval(selector, (el) => {
      (el as unknown as { value: string }).value = '';
    });

  it('serves the page with a strict Content-Security-Policy and every asset from the app', async () => {
    const res = await fetch(`${stack.apiUrl}/`);
    assert.equal(res.status, 200);
    const csp = res.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'self'/u);
    assert.match(csp, /script-src 'self'(;|$)/u);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/u);
    const html = await res.text();
    assert.doesNotMatch(html, /<script>|\sstyle=|\son\w+=/u, 'no inline script, style or handler');
    assert.doesNotMatch(html, /https?:\/\//u, 'no asset from elsewhere');
    assert.match(stack.output(), /Admin page\s+http:\/\/127\.0\.0\.1:\d+\//u, 'the banner prints the page address');
  });

  it('signs in with an API key, refusing a wrong one beside the field', async () => {
    await page.goto(`${stack.apiUrl}/`);
    await page.locator('#api-key').wait();
    await expectAccessible(page, 'sign-in');
    await screenshot(page, '01-sign-in');
    await page.type('#api-key', 'dfs_not-a-real-key');
    await click('button', 'Sign in');
    await waitForText(page, '#api-key-error', 'not valid');
    assert.equal(await page.$eval('#api-key', (el) => el.getAttribute('aria-invalid')), 'true');
    await clearField('#api-key');
    await page.type('#api-key', admin.apiKey);
    await click('button', 'Sign in');
    await waitForText(page, 'main h1', 'Projects');
    await waitForText(page, '#account', 'site.admin@harju.example');
    await expectAccessible(page, 'projects');
    await screenshot(page, '02-projects');
  });

  it('shows the help page\'s message for a project whose organization lacks the feature', async () => {
    await click('link', 'Harbour Depot');
    await waitForText(page, '#feature-off', /contact your account contact to get the feature enabled/iu);
    assert.equal(await page.$('#new-connection'), null, 'no connection form');
    await expectAccessible(page, 'feature-off project');
    await screenshot(page, '03-feature-off');
  });

  it('shows each login error beside its field, then makes the connection', async () => {
    await page.goto(`${stack.apiUrl}/#/projects/${projectId}`);
    await waitForText(page, 'main h1', 'Tower C');
    await waitForText(page, '[role="tab"][aria-selected="true"]', 'Dropbox connection');
    await waitForText(page, '#connections', 'No Dropbox account is connected yet');
    // The dev stack registers its demo app as the service's own, so "Connect with Dropbox" is offered.
    await waitForText(page, '#connect-with-dropbox', 'Connect with Dropbox');

    // Refused by the service's validation: said beside the field it names.
    await page.type('#client-identification', 'not-an-email');
    await page.type('#access-token', 'sl.this-token-is-wrong');
    await click('button', 'Login');
    await waitForText(page, '#client-identification-error', /email/iu);
    assert.equal(await page.$eval('#client-identification', (el) => el.getAttribute('aria-invalid')), 'true');
    await clearField('#client-identification');
    await clearField('#access-token');

    await page.type('#client-identification', 'demo@example.com');
    await page.type('#access-token', 'sl.this-token-is-wrong');
    await click('button', 'Login');
    await waitForText(page, '#access-token-error', 'does not accept this access token');
    assert.equal(await page.$eval('#access-token', (el) => el.getAttribute('aria-invalid')), 'true');
    assert.equal(await page.evaluate('document.activeElement.id'), 'access-token', 'the cursor goes to the field to fix');
    await expectAccessible(page, 'login error');
    await screenshot(page, '04-login-error');

    await clearField('#client-identification');
    await page.type('#client-identification', 'someone.else@example.com');
    await clearField('#access-token');
    await page.type('#access-token', demoToken);
    await click('button', 'Login');
    await waitForText(page, '#client-identification-error', 'belongs to another Dropbox account than someone.else@example.com');
    assert.equal(await page.$eval('#access-token-error', (el) => el.hasAttribute('hidden')), true, 'the token error is gone');

    // Dropbox asks to slow down: the page says for how long, and nothing is saved.
    await clearField('#client-identification');
    await page.type('#client-identification', 'demo@example.com');
    await expectCall('POST', `${stack.emulatorUrl}/_control/faults/next`, undefined, { status: 429, retryAfterSeconds: 2, route: 'users/get_current_account' }, 204);
    await click('button', 'Login');
    await waitForText(page, '#new-connection-error', 'Dropbox asked the service to slow down, so nothing was saved. Try Login again in 2 seconds.');
    await waitForText(page, '#connections', 'No Dropbox account is connected yet');
    await new Promise((resolve) => setTimeout(resolve, 2_100));

    await click('button', 'Login');
    await waitForText(page, '#new-connection-notice', 'Connected the Dropbox account demo@example.com');
    await waitForText(page, '#connections', 'demo@example.com');
    await waitForText(page, '#connections', 'Access token');
    assert.equal(await page.$eval('#access-token', (el) => (el as unknown as { value: string }).value), '', 'the token is cleared from the form');

    // Logging in again to the same account replaces its token: still one connection.
    const demo = await demoAccountId();
    const fresh = String((await expectCall('POST', `${stack.emulatorUrl}/_control/accounts/${demo}/tokens`, undefined, {}, 201)).token);
    await page.type('#client-identification', 'demo@example.com');
    await page.type('#access-token', fresh);
    await click('button', 'Login');
    await waitForText(page, '#new-connection-notice', 'Replaced the credentials of the Dropbox account demo@example.com');
    const listed = (await expectCall('GET', `${stack.apiUrl}/v1/projects/${projectId}/dropbox/connections`, admin.apiKey, undefined, 200)).connections as { tokenUpdatedAt: string; createdAt: string }[];
    assert.equal(listed.length, 1, 'one connection for the account');
    assert.ok(Date.parse(listed[0]!.tokenUpdatedAt) > Date.parse(listed[0]!.createdAt), 'its token was replaced');
    demoToken = fresh;
  });

  it('browses one level at a time and marks a folder with special characters as not mappable', async () => {
    await waitForText(page, '#folder-browser', 'Projects');
    await click('button', 'Projects');
    await waitForText(page, '#folder-heading', '/Projects');
    await waitForText(page, '#folder-browser .not-mappable', 'Not mappable');
    assert.deepEqual(await page.$$eval('#folder-browser .not-mappable mark', (els) => els.map((e) => e.textContent)), ['#']);
    assert.deepEqual(
      await page.$$eval('#folder-browser button.folder bdi', (els) => els.filter((e) => e.textContent?.startsWith('Tender')).map((e) => e.textContent)),
      ['TenderU+202Efdp.exe'],
      'the direction control is shown by its code point, not obeyed',
    );
    await expectAccessible(page, 'folder browser');
    await screenshot(page, '05-folder-browser');
    await click('button', 'Site A');
    await waitForText(page, '#folder-heading', '/Projects/Site A');
    await waitForText(page, '#folder-browser', 'Photos');
    assert.deepEqual(
      await page.$$eval('#folder-browser nav li', (els) => els.map((e) => e.textContent)),
      ['Dropbox (root)', 'Projects', 'Site A'],
      'breadcrumbs from the root',
    );
  });

  it('maps /Projects/Site A once on a double click, and shows its files arrive without a reload', async () => {
    const mapsBefore = apiRequests.filter((r) => r === `POST /v1/projects/${projectId}/dropbox/mappings`).length;
    await page.locator(byName('button', 'Map /Projects/Site A')).click({ count: 2 });
    await waitForText(page, '#map-feedback', 'Mapped /Projects/Site A');
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(apiRequests.filter((r) => r === `POST /v1/projects/${projectId}/dropbox/mappings`).length - mapsBefore, 1, 'one request');
    await waitForText(page, '#map-feedback', 'Mapped /Projects/Site A');
    await waitForText(page, '#mappings', '/Projects/Site A');
    // Eight files pass the policy (one of them too large to copy), two names are rejected, Photos
    // is skipped; the page refreshes itself.
    await waitForText(page, '#mappings .facts', /Files8Rejected files3Skipped subfolders1/u, 60_000);
    await waitForText(page, '#mappings .badge', 'Active');
    const workflow = await page.$eval('#mappings a.external', (a) => a.getAttribute('href'));
    assert.match(workflow, /^http:\/\/127\.0\.0\.1:\d+\/namespaces\/default\/workflows\/folder-sync-[0-9a-f]+$/u);
    await expectAccessible(page, 'mappings');
    await screenshot(page, '06-mappings', { from: '#map-title' });
  });

  it('lists the files newest first, the two rejected names with their characters marked and the file too large', async () => {
    await click('link', 'Files and rejections of /Projects/Site A');
    await waitForText(page, 'main h1', '/Projects/Site A');
    await waitForText(page, '#files tbody', 'Foundation plan.pdf');
    const names = await page.$$eval('#files tbody th', (els) => els.map((e) => e.textContent));
    assert.equal(names.length, 8);
    assert.equal(names[0], 'Site diary.txt', 'the newest file first');
    assert.ok(names.includes('Kaivanto ä ö.dwg'));
    await waitForText(page, '#rejections', 'plan#2?.pdf');
    const marked = await page.$$eval('#rejections li', (items) =>
      items.map((li) => [li.querySelector('.name, strong')?.textContent, Array.from(li.querySelectorAll('mark')).map((m) => (m as { textContent: string | null }).textContent)]),
    );
    assert.deepEqual(
      marked.filter(([name]) => name !== 'Photos').sort(),
      [['Budget 50%.xlsx', ['%']], ['Tower model.ifc', []], ['plan#2?.pdf', ['#', '?']]],
    );
    const modelRow = await page.$$eval('#files tbody tr', (rows) => rows.map((r) => r.textContent ?? '').find((t) => t.includes('Tower model.ifc')));
    assert.match(modelRow ?? '', /Too large to store/u);
    const tooLarge = await page.$eval('#rejections', (el) => el.textContent ?? '');
    assert.match(tooLarge, /Files too large.*Tower model\.ifc.*Not transferred: The file is 16777217 bytes, more than the 16777216 bytes/su);

    // A download goes to disk through the browser's own download, by a link that needs no key.
    const downloads = await mkdtemp(join(tmpdir(), 'dfs-downloads-'));
    const cdp = await browser.target().createCDPSession();
    await cdp.send('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: downloads, eventsEnabled: true });
    await click('link', 'Download Site diary.txt');
    await eventually(async () => assert.equal(await readFile(join(downloads, 'Site diary.txt'), 'utf8'), 'Concrete poured.'), 30_000);
    assert.ok(requestedUrls.some((u) => /\/files\/[^/]+\/content-link$/u.test(u)), 'asked for a link');
    await cdp.detach();

    // Deleted in Dropbox: kept, under its own heading, its content still downloadable.
    assert.equal(await page.$eval('#deleted-files', (el) => el.hasAttribute('hidden')), true, 'nothing deleted yet');
    await expectCall('POST', `${stack.emulatorUrl}/_control/accounts/${await demoAccountId()}/delete`, undefined, { path: '/Projects/Site A/Safety plan.docx' }, 204);
    const dropboxApi = (path: string) => `${stack.apiUrl}/v1/projects/${projectId}/dropbox${path}`;
    const siteA = ((await expectCall('GET', dropboxApi('/mappings'), admin.apiKey, undefined, 200)).mappings as { id: string; dropboxPath: string }[]).find((m) => m.dropboxPath === '/Projects/Site A');
    assert.ok(siteA);
    await expectCall('POST', dropboxApi(`/mappings/${siteA.id}/sync`), admin.apiKey, undefined, 202);
    await waitForText(page, '#deleted-files', /Deleted in Dropbox.*Safety plan\.docx.*Download/su, 60_000);
    const liveNames = await page.$$eval('#files tbody th', (els) => els.map((e) => e.textContent));
    assert.ok(!liveNames.includes('Safety plan.docx'), 'not among the files in the folder');

    // A new version too large to copy: the stored earlier one is still served, and said to be earlier.
    await expectCall('POST', `${stack.emulatorUrl}/_control/accounts/${await demoAccountId()}/files/modify`, undefined, { path: '/Projects/Site A/Foundation plan.pdf', seed: 12, size: MAX_FILE_BYTES + 1 }, 200);
    await expectCall('POST', dropboxApi(`/mappings/${siteA.id}/sync`), admin.apiKey, undefined, 202);
    const planRow = () => page.$$eval('#files tbody tr', (rows) => rows.map((r) => r.textContent ?? '').find((t) => t.includes('Foundation plan.pdf')) ?? '');
    await eventually(async () => assert.match(await planRow(), /Download the earlier version Foundation plan\.pdf \(this version: Too large to store\)/u), 60_000);
    await waitForText(page, '#mapping-status', /Contents: \d+ stored, 0 waiting, [1-9]\d* not stored/u);
    await expectAccessible(page, 'files and rejections');
    await screenshot(page, '07-files-and-rejections');
  });

  it('maps the skipped subfolder Photos from its hint', async () => {
    await click('button', 'Map this folder: /Projects/Site A/Photos');
    await waitForText(page, '#rejection-feedback', 'Mapped /Projects/Site A/Photos');
    await click('link', 'Back to the mappings');
    await waitForText(page, '#mappings', '/Projects/Site A/Photos');
    await waitForText(page, '#mappings [data-mapping]:last-child .facts', /Files1/u, 60_000);
  });

  it('pauses, resumes and unmaps (after a confirmation) a mapping', async () => {
    const card = '#mappings li:first-child';
    await waitForText(page, `${card} h3`, '/Projects/Site A');
    await click('button', 'Pause /Projects/Site A');
    await waitForText(page, `${card} .badge`, 'Paused');
    assert.equal(await page.$(`${card} [data-focus$=":sync"]`), null, 'no "Sync now" while paused');
    await click('button', 'Resume /Projects/Site A');
    await waitForText(page, `${card} .badge`, 'Active');
    await click('button', 'Sync now /Projects/Site A');
    await waitForText(page, '#mapping-feedback', 'Started a sync of /Projects/Site A');

    await click('button', 'Unmap /Projects/Site A');
    await page.locator('dialog[open]').wait();
    await expectAccessible(page, 'unmap confirmation');
    await screenshot(page, '08-unmap-confirmation');
    assert.equal(await page.evaluate('document.activeElement.textContent'), 'Cancel', 'the safe choice has the focus');
    await page.keyboard.press('Escape');
    await page.waitForFunction('!document.querySelector("dialog")');
    await waitForText(page, `${card} .badge`, 'Active');

    await click('button', 'Unmap /Projects/Site A');
    await page.locator('dialog[open]').wait();
    await page.locator('dialog ::-p-aria([name="Unmap"][role="button"])').click();
    await waitForText(page, '#mapping-feedback', 'Unmapped /Projects/Site A.');
    await page.waitForFunction(`Array.from(document.querySelectorAll('#mappings [data-mapping]')).some(
      (li) => li.querySelector('h3').textContent === '/Projects/Site A' && li.querySelector('.badge').textContent === 'Unmapped')`);
    const stored = await call('GET', `${stack.apiUrl}/v1/projects/${projectId}/dropbox/mappings`, admin.apiKey);
    const states = (stored.body.mappings as { dropboxPath: string; state: string }[]).map((m) => `${m.dropboxPath}: ${m.state}`).sort();
    assert.deepEqual(states, ['/Projects/Site A/Photos: active', '/Projects/Site A: unmapped']);
  });

  it('tells the admin what happened when Dropbox sends the browser back, connected or not', async () => {
    await page.goto(`${stack.apiUrl}/?error=access_denied`);
    await waitForText(page, '#return-notice', 'cancelled or refused');
    assert.equal(new URL(page.url()).search, '', 'the address is cleaned');
    await page.goto(`${stack.apiUrl}/?connection=0123456789abcdef0123456789abcdef`);
    await waitForText(page, '#return-notice', 'Dropbox is connected');
    assert.equal(new URL(page.url()).search, '');
  });

  it('shows a hundred rejections, then the rest on asking', async () => {
    const demo = await demoAccountId();
    for (let i = 0; i < 105; i += 1) {
      await expectCall('POST', `${stack.emulatorUrl}/_control/accounts/${demo}/files`, undefined, { path: `/Projects/Scans/scan #${String(i).padStart(3, '0')}.pdf`, content: 'scan' }, 201);
    }
    const api = (path: string) => `${stack.apiUrl}/v1/projects/${projectId}/dropbox${path}`;
    const connections = (await expectCall('GET', api('/connections'), admin.apiKey, undefined, 200)).connections as { id: string }[];
    const mapping = await expectCall('POST', api('/mappings'), admin.apiKey, { connectionId: connections[0]?.id, dropboxPath: '/Projects/Scans' }, 201);
    await page.goto(`${stack.apiUrl}/#/projects/${projectId}/mappings/${String(mapping.id)}`);
    await waitForText(page, '#mapping-status', /105 rejected files/u, 60_000);
    const shownNames = () => page.$$eval('#rejections li', (items) => items.length);
    await page.waitForFunction('document.querySelectorAll("#rejections li").length === 100');
    await click('button', 'Show more rejections');
    await page.waitForFunction('document.querySelectorAll("#rejections li").length === 105');
    assert.equal(await shownNames(), 105);
    assert.equal(await page.$eval('#rejections', (el) => el.parentElement?.querySelector('button[hidden]')?.textContent), 'Show more rejections');
    // Its next refresh (every 2 s) keeps the pages the admin opened.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    assert.equal(await shownNames(), 105);
    assert.equal(await page.$eval('#records-changed', (el) => el.textContent), '', 'nothing changed yet');
    // A sync that changes something: the opened pages stay, and the page says they are out of date.
    await expectCall('POST', `${stack.emulatorUrl}/_control/accounts/${demo}/files`, undefined, { path: '/Projects/Scans/cover sheet.pdf', content: 'cover' }, 201);
    await expectCall('POST', api(`/mappings/${String(mapping.id)}/sync`), admin.apiKey, undefined, 202);
    await waitForText(page, '#records-changed', 'Files changed since you opened more pages', 60_000);
    assert.equal(await shownNames(), 105);
    await click('button', 'Show the newest');
    await waitForText(page, '#files tbody', 'cover sheet.pdf');
    await page.waitForFunction('document.querySelectorAll("#rejections li").length === 100');
    assert.equal(await page.$eval('#records-changed', (el) => el.textContent), '');
  });

  it('says when a token cannot copy contents, and which permission it lacks', async () => {
    const control = (path: string, body: unknown) => expectCall('POST', `${stack.emulatorUrl}/_control${path}`, undefined, body, 201);
    const limited = (await control('/accounts', { email: 'limited@harju.example' })) as { accountId: string };
    await control(`/accounts/${limited.accountId}/files`, { path: '/Limited/report.pdf', content: 'report' });
    const { token } = (await control(`/accounts/${limited.accountId}/tokens`, { scopes: ['account_info.read', 'files.metadata.read'] })) as { token: string };
    const api = (path: string) => `${stack.apiUrl}/v1/projects/${projectId}/dropbox${path}`;
    const connection = await expectCall('POST', api('/connections'), admin.apiKey, { clientIdentification: 'limited@harju.example', accessToken: token }, 201);
    const mapping = await expectCall('POST', api('/mappings'), admin.apiKey, { connectionId: connection.id, dropboxPath: '/Limited' }, 201);
    await page.goto(`${stack.apiUrl}/#/projects/${projectId}/mappings/${String(mapping.id)}`);
    await waitForText(page, '#files tbody', /report\.pdf.*Needs the files\.content\.read permission/su, 60_000);
    await waitForText(page, '#mapping-status', /add the "files\.content\.read" scope/u);
    // Gone again: the tests after this one know one connection.
    await expectCall('DELETE', api(`/mappings/${String(mapping.id)}`), admin.apiKey, undefined, 202);
    await expectCall('DELETE', api(`/connections/${String(connection.id)}`), admin.apiKey, undefined, 204);
  });

  it('says when the sync service does not answer for a mapping, instead of a next sync', async () => {
    const demo = await demoAccountId();
    await expectCall('POST', `${stack.emulatorUrl}/_control/accounts/${demo}/files`, undefined, { path: '/Projects/Quiet/notes.txt', content: 'quiet' }, 201);
    const api = (path: string) => `${stack.apiUrl}/v1/projects/${projectId}/dropbox${path}`;
    const [connection] = (await expectCall('GET', api('/connections'), admin.apiKey, undefined, 200)).connections as { id: string }[];
    const mapping = (await expectCall('POST', api('/mappings'), admin.apiKey, { connectionId: connection?.id, dropboxPath: '/Projects/Quiet' }, 201)) as { id: string; workflowId: string };
    await page.goto(`${stack.apiUrl}/#/projects/${projectId}/mappings/${mapping.id}`);
    await waitForText(page, '#files tbody', 'notes.txt', 60_000);
    // Its workflow now waits on a task queue no worker polls, as when every worker is down.
    const temporal = new Client({ connection: await Connection.connect({ address: stack.temporalAddress }) });
    try {
      await temporal.workflow.getHandle(mapping.workflowId).terminate('the test stands in a workflow no worker runs');
      await temporal.workflow.start(FOLDER_SYNC_WORKFLOW, {
        taskQueue: 'no-worker-polls-this',
        workflowId: mapping.workflowId,
        args: [{ mappingId: mapping.id, projectId, dropboxPath: '/projects/quiet' }],
      });
      await waitForText(page, '#mapping-status', 'The sync service is not answering', 30_000);
      await page.goto(`${stack.apiUrl}/#/projects/${projectId}`);
      await page.waitForFunction(`Array.from(document.querySelectorAll('#mappings [data-mapping]')).some(
        (li) => li.querySelector('h3').textContent === '/Projects/Quiet' && li.textContent.includes('Unknown: the sync service is not answering'))`, { timeout: 30_000 });
    } finally {
      // Gone again, whatever happened: the tests after this one count the live mappings.
      await expectCall('DELETE', api(`/mappings/${mapping.id}`), admin.apiKey, undefined, 202);
      await temporal.workflow.getHandle(mapping.workflowId).terminate('test done').catch(() => undefined);
      await temporal.connection.close();
    }
  });

  it('says how to give a connection new credentials, and never trades a refresh token for an access token', async () => {
    const demo = await demoAccountId();
    const api = (path: string) => `${stack.apiUrl}/v1/projects/${projectId}/dropbox${path}`;
    await expectCall('POST', `${stack.emulatorUrl}/_control/tokens/expire`, undefined, { token: demoToken }, 204);
    const { mappings } = (await expectCall('GET', api('/mappings'), admin.apiKey, undefined, 200)) as { mappings: { id: string; state: string }[] };
    const live = mappings.find((m) => m.state === 'active');
    assert.ok(live);
    await expectCall('POST', api(`/mappings/${live.id}/sync`), admin.apiKey, undefined, 202);
    await page.goto(`${stack.apiUrl}/#/projects/${projectId}`);
    await waitForText(page, '#connections', /Needs new credentials\s*Log in again below with a new token/u, 60_000);
    const fresh = String((await expectCall('POST', `${stack.emulatorUrl}/_control/accounts/${demo}/tokens`, undefined, {}, 201)).token);
    await page.type('#client-identification', 'demo@example.com');
    await page.type('#access-token', fresh);
    await click('button', 'Login');
    await waitForText(page, '#new-connection-notice', 'Replaced the credentials of the Dropbox account demo@example.com');
    await waitForText(page, '#connections', 'Connected', 60_000);

    // A refresh token of the admin's own app, given on the page: checked with Dropbox, then it
    // replaces the access token, and the connection renews itself.
    const app = (await expectCall('POST', `${stack.emulatorUrl}/_control/apps`, undefined, { redirectUris: [] }, 201)) as { appKey: string; appSecret: string };
    const { refreshToken } = (await expectCall('POST', `${stack.emulatorUrl}/_control/apps/${app.appKey}/grants`, undefined, { accountId: demo }, 201)) as { refreshToken: string };
    await page.locator('#refresh-token-option summary').click();
    await page.type('#client-identification', 'demo@example.com');
    await page.type('#refresh-token', refreshToken);
    await click('button', 'Login');
    await waitForText(page, '#app-key-error', 'Enter the key of the Dropbox app');
    await page.type('#app-key', app.appKey);
    await page.type('#app-secret', 'not-the-secret');
    await click('button', 'Login');
    await waitForText(page, '#app-key-error', 'Dropbox refused the app key or app secret');
    assert.equal(await page.$eval('#app-key-error', (el) => el.hasAttribute('hidden')), false);
    await clearField('#app-secret');
    await page.type('#app-secret', app.appSecret);
    // A grant without the permission to list files: what to fix is said beside the refresh token.
    const { refreshToken: narrow } = (await expectCall('POST', `${stack.emulatorUrl}/_control/apps/${app.appKey}/grants`, undefined, { accountId: demo, scopes: ['account_info.read'] }, 201)) as { refreshToken: string };
    await clearField('#refresh-token');
    await page.type('#refresh-token', narrow);
    await click('button', 'Login');
    await waitForText(page, '#refresh-token-error', 'Tokens from this refresh token lack the “files.metadata.read” permission');
    await clearField('#refresh-token');
    await page.type('#refresh-token', refreshToken);
    await click('button', 'Login');
    await waitForText(page, '#new-connection-notice', 'Replaced the credentials of the Dropbox account demo@example.com');
    await waitForText(page, '#connections', 'Refresh token (renewed automatically)');
    assert.equal(await page.$eval('#refresh-token', (el) => (el as unknown as { value: string }).value), '', 'the token is cleared from the form');

    // Connected with a refresh token, a login with an access token is refused rather than put in its place.
    const another = String((await expectCall('POST', `${stack.emulatorUrl}/_control/accounts/${demo}/tokens`, undefined, {}, 201)).token);
    await page.reload();
    await waitForText(page, '#connections', 'Refresh token (renewed automatically)');
    await page.type('#client-identification', 'demo@example.com');
    await page.type('#access-token', another);
    await click('button', 'Login');
    await waitForText(page, '#client-identification-error', 'renews itself with a refresh token');
    const after = (await expectCall('GET', api('/connections'), admin.apiKey, undefined, 200)).connections as { credentialKind: string }[];
    assert.deepEqual(after.map((c) => c.credentialKind), ['refresh_token']);
  });

  it('disconnects an account once its folders are unmapped, after a confirmation', async () => {
    await page.goto(`${stack.apiUrl}/#/projects/${projectId}`);
    await waitForText(page, '#connections', 'demo@example.com');
    const disconnect = async () => {
      await click('button', 'Disconnect demo@example.com');
      await page.locator('dialog[open]').wait();
      await page.locator('dialog ::-p-aria([name="Disconnect"][role="button"])').click();
    };
    await disconnect();
    await waitForText(page, '#connection-feedback', /still has 2 mappings; unmap them first/u);
    await waitForText(page, '#connections', 'demo@example.com');
    const api = (path: string) => `${stack.apiUrl}/v1/projects/${projectId}/dropbox${path}`;
    const { mappings } = (await expectCall('GET', api('/mappings'), admin.apiKey, undefined, 200)) as { mappings: { id: string; state: string }[] };
    for (const m of mappings.filter((x) => x.state !== 'unmapped')) await expectCall('DELETE', api(`/mappings/${m.id}`), admin.apiKey, undefined, 202);
    await disconnect();
    await waitForText(page, '#connection-feedback', 'Disconnected the Dropbox account demo@example.com.');
    await waitForText(page, '#connections', 'No Dropbox account is connected yet');
    await expectAccessible(page, 'after a disconnection');
  });

  it('shows a member no Dropbox connection tab', async () => {
    await click('button', 'Sign out');
    await page.locator('#api-key').wait();
    assert.equal(await page.evaluate('sessionStorage.length'), 0, 'the key is forgotten');
    // By keyboard alone: the view's heading has the focus, one Tab reaches the field, Enter signs in.
    assert.equal(await page.evaluate('document.activeElement.textContent'), 'Sign in');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate('document.activeElement.id'), 'api-key');
    await page.keyboard.type(member.apiKey);
    await page.keyboard.press('Enter');
    await waitForText(page, 'main h1', 'Projects');
    await click('link', 'Tower C');
    await waitForText(page, '#member-notice', 'Only the project’s admins manage its Dropbox connection');
    assert.equal(await page.$('[role="tab"]'), null, 'no tab');
    await expectAccessible(page, 'member');
    await screenshot(page, '09-member');
  });

  it('says the connections could not be read, rather than that there are none, when the first load fails', async () => {
    const failing = await browser.newPage();
    try {
      await failing.goto(`${stack.apiUrl}/`);
      await failing.evaluate(`sessionStorage.setItem('dropbox-folder-sync.apiKey', ${JSON.stringify(admin.apiKey)})`);
      await failing.setRequestInterception(true);
      failing.on('request', (request) => {
        if (request.isInterceptResolutionHandled()) return;
        if (new URL(request.url()).pathname.endsWith('/dropbox/connections')) {
          void request.respond({ status: 503, contentType: 'application/json', body: JSON.stringify({ error: { code: 'unavailable', message: 'Try again later.' } }) });
        } else void request.continue();
      });
      await failing.goto(`${stack.apiUrl}/#/projects/${projectId}`);
      await waitForText(failing, '#connections', 'could not be read');
      await waitForText(failing, '#folder-browser', 'could not be read');
      const text = await failing.$eval('#panel-dropbox', (el) => el.textContent ?? '');
      assert.doesNotMatch(text, /No Dropbox account is connected|Make a connection first/u);
    } finally {
      await failing.close();
    }
  });

  it('kept the API keys out of every address and the page out of CSP trouble', () => {
    for (const url of requestedUrls) {
      assert.ok(!url.includes(admin.apiKey) && !url.includes(member.apiKey), `a key in ${url}`);
    }
    const blocked = consoleErrors.filter((text) => /Content Security Policy|Refused to/iu.test(text));
    assert.deepEqual(blocked, []);
  });
});
