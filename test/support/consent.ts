/**
 * The admin's browser on the emulator's consent page: opens the authorize URL, then submits the
 * page's form with the button clicked (one "Allow as <email>" per account, or Cancel), and
 * returns where Dropbox sends the browser back to.
 */
import assert from 'node:assert/strict';

export async function clickConsent(authorizeUrl: string, click: { allowAccountId: string } | 'deny'): Promise<string> {
  const page = await fetch(authorizeUrl);
  const html = await page.text();
  assert.equal(page.status, 200, html);
  const unescape = (v: string) =>
    v.replace(/&quot;/gu, '"').replace(/&#39;/gu, "'").replace(/&lt;/gu, '<').replace(/&gt;/gu, '>').replace(/&amp;/gu, '&');
  const fields = [...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/gu)].map(
    (m) => [unescape(m[1] as string), unescape(m[2] as string)] as [string, string],
  );
  const action = /<form method="post" action="([^"]+)">/u.exec(html)?.[1];
  assert.ok(action, 'the consent page has a form');
  if (click !== 'deny') {
    assert.ok(html.includes(`value="${click.allowAccountId}"`), 'an Allow button for the account');
  }
  const button: [string, string] = click === 'deny' ? ['deny', '1'] : ['allow_account', click.allowAccountId];
  const res = await fetch(new URL(action, authorizeUrl), {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams([...fields, button]).toString(),
    redirect: 'manual',
  });
  assert.equal(res.status, 302);
  return res.headers.get('location') ?? '';
}
