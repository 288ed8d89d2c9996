import type { ServerResponse } from 'node:http';
import { join } from 'node:path';
import express, { Router } from 'express';

/** The admin page's files: plain HTML, CSS and ES modules, served as they are (no build step). */
export const PAGE_DIR = join(__dirname, 'page');

/**
 * Everything from this origin and nothing inline: the page's scripts are files, its styles a
 * stylesheet, so injected markup can neither run script nor restyle the page. Only the API is
 * fetched; the Temporal Web UI is a plain link.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

function secure(res: ServerResponse): void {
  res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  // The page's address may carry a connection id or an error code after "Connect with Dropbox".
  res.setHeader('Referrer-Policy', 'no-referrer');
}

/** The admin page at `/` (the project admin's "Dropbox connection" tab); it needs no key to load. */
export function pageRouter(): Router {
  const router = Router();
  router.get('/', (_req, res) => {
    secure(res);
    res.setHeader('Cache-Control', 'no-cache');
    res.sendFile(join(PAGE_DIR, 'index.html'));
  });
  // Revalidated on every load (ETag): a new release's modules are never mixed with cached old ones.
  router.use(
    '/assets',
    express.static(join(PAGE_DIR, 'assets'), { index: false, maxAge: 0, setHeaders: secure }),
  );
  return router;
}
