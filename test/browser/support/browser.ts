/**
 * Chromium through puppeteer-core: the machine's own browser (ensureChromium), never a download.
 * Each view is checked with axe-core and photographed into test-output/screenshots.
 */
import assert from 'node:assert/strict';
import { mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { ensureChromium } from '../../../src/dev/chromium';

const root = resolve(__dirname, '..', '..', '..');
export const SCREENSHOT_DIR = join(root, 'test-output', 'screenshots');

export async function launchBrowser(): Promise<Browser> {
  const executablePath = await ensureChromium({ env: process.env, log: (line) => console.log(`[chromium] ${line}`) });
  return puppeteer.launch({
    executablePath,
    headless: true,
    // As root (CI containers) Chromium refuses to start sandboxed.
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--lang=en-US', '--font-render-hinting=none'],
    defaultViewport: { width: 1200, height: 900 },
  });
}

interface AxeResult {
  violations: { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] }[];
}

let axeSource: string | undefined;

/**
 * Runs axe-core on the page as it is now and fails on serious or critical violations. The
 * script goes in through DevTools evaluation, which the page's Content-Security-Policy does not
 * govern, so the page is tested with its real policy on.
 */
export async function expectAccessible(page: Page, view: string): Promise<void> {
  axeSource ??= await readFile(require.resolve('axe-core/axe.min.js'), 'utf8');
  const loaded = await page.evaluate('typeof window.axe === "object"');
  if (!loaded) await page.evaluate(axeSource);
  const result = (await page.evaluate(
    'window.axe.run(document, { resultTypes: ["violations"] })',
  )) as AxeResult;
  const serious = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(
    serious.map((v) => `${v.id} (${v.impact}): ${v.help} at ${JSON.stringify(v.nodes.map((n) => n.target))}`),
    [],
    `accessibility of the ${view} view`,
  );
}

/** The whole page, or from the top of the element `from` down to the page's end. */
export async function screenshot(page: Page, name: string, options: { from?: string } = {}): Promise<void> {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`) as `${string}.png`;
  // Document coordinates: the element's place on the page, however far it is scrolled.
  const top = options.from
    ? ((await page.evaluate(
        `(() => { const el = document.querySelector(${JSON.stringify(options.from)}); return el ? el.getBoundingClientRect().top + window.scrollY - 16 : null; })()`,
      )) as number | null)
    : null;
  if (top === null) {
    await page.screenshot({ path, fullPage: true });
    return;
  }
  const size = (await page.evaluate('[document.documentElement.scrollWidth, document.documentElement.scrollHeight]')) as [number, number];
  await page.screenshot({ path, captureBeyondViewport: true, clip: { x: 0, y: Math.max(0, top), width: size[0], height: size[1] - Math.max(0, top) } });
}

/** Waits until the element's text contains `text` (or matches it). */
export async function waitForText(page: Page, selector: string, text: string | RegExp, timeout = 30_000): Promise<void> {
  const source = typeof text === 'string' ? { kind: 'text', value: text } : { kind: 'regexp', value: text.source, flags: text.flags };
  try {
    await page.waitForFunction(
      (sel: string, want: { kind: string; value: string; flags?: string }) => {
        const doc = (globalThis as unknown as { document: { querySelector(s: string): { textContent: string | null } | null } }).document;
        const got = doc.querySelector(sel)?.textContent ?? '';
        return want.kind === 'text' ? got.includes(want.value) : new RegExp(want.value, want.flags).test(got);
      },
      { timeout, polling: 100 },
      selector,
      source,
    );
  } catch (err) {
    const got = await page.$eval(selector, (el) => el.textContent).catch(() => '(no such element)');
    throw new Error(`${selector} never showed ${String(text)}; it shows: ${got}`, { cause: err });
  }
}
