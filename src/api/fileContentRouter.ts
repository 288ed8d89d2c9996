import { pipeline } from 'node:stream/promises';
import { type Request, type Response, Router } from 'express';
import type { FileContent } from '../db/fileContentsRepository';
import type { FileRecord, Mapping } from '../domain/types';
import { shownContent } from '../domain/contentScope';
import { attachmentDisposition, byteRange, contentTypeOf, ifNoneMatchHolds } from '../domain/contentTypes';
import type { AppDeps } from './deps';
import { ApiError } from './errors';
import { findFile, findMapping } from './mappingAccess';
import { requireDropboxFeature } from './projectAccess';
import { MAPPINGS_PATH } from './mappingsRouter';
import { contentLinkParams, fileParams, noBody, noQuery } from './schemas';
import { validate } from './validate';

/** The path a content link is served on; its token authenticates it, no API key. */
export const CONTENT_LINKS_PATH = '/v1/content-links';

/**
 * A synced file's bytes, streamed from GridFS: the verified content of its stored rev (while a
 * new rev is copied, the previous one), with `ETag` (Dropbox's content hash), `Range` requests and
 * its original name. A file of another project's mapping is not found. A content link serves the
 * same bytes to a browser's plain navigation, which streams them to disk.
 */
export function fileContentRouter(deps: Pick<AppDeps, 'repos' | 'log' | 'contentLinks'>): Router {
  const { repos, contentLinks } = deps;
  const router = Router();

  router.get(`${MAPPINGS_PATH}/:mappingId/files/:fileId/content`, async (req, res) => {
    const { projectId, mappingId, fileId } = validate('params', fileParams, { ...req.params });
    validate('query', noQuery, req.query);
    const mapping = await findMapping(repos, projectId, mappingId);
    const file = await findFile(repos, mapping, fileId);
    await serveStoredContent(deps, req, res, mapping, file);
  });

  router.post(`${MAPPINGS_PATH}/:mappingId/files/:fileId/content-link`, async (req, res) => {
    const { projectId, mappingId, fileId } = validate('params', fileParams, { ...req.params });
    validate('query', noQuery, req.query);
    validate('body', noBody, req.body ?? {});
    const mapping = await findMapping(repos, projectId, mappingId);
    const file = await findFile(repos, mapping, fileId);
    // Refused now, as the content route would, rather than after the browser left the page.
    storedOrRefused(await repos.contents.contentOfFile(file), mapping, fileId);
    const { token, expiresAt } = contentLinks.create({ projectId, mappingId, fileId });
    res.status(201).json({ url: `${CONTENT_LINKS_PATH}/${token}`, expiresAt: expiresAt.toISOString() });
  });

  return router;
}

/** Content links, mounted before the API key is asked for: the link's signature is the credential. */
export function contentLinkRouter(deps: Pick<AppDeps, 'repos' | 'log' | 'contentLinks'>): Router {
  const { repos, contentLinks } = deps;
  const router = Router();

  router.get(`${CONTENT_LINKS_PATH}/:token`, async (req, res) => {
    const { token } = validate('params', contentLinkParams, { ...req.params });
    validate('query', noQuery, req.query);
    const checked = contentLinks.check(token);
    if (!checked.ok && checked.problem === 'expired') {
      throw new ApiError(410, 'content_link_expired', 'This download link has expired: download the file again from the admin page.');
    }
    if (!checked.ok) throw new ApiError(404, 'content_link_not_found', 'No download link has this address.');
    const { projectId, mappingId, fileId } = checked.target;
    await requireDropboxFeature(repos, projectId);
    const mapping = await findMapping(repos, projectId, mappingId);
    const file = await findFile(repos, mapping, fileId);
    await serveStoredContent(deps, req, res, mapping, file);
  });

  return router;
}

function storedOrRefused({ current, stored }: FileContent, mapping: Mapping, fileId: string) {
  if (stored?.storedFileId && typeof stored.storedSize === 'number') {
    return { storedFileId: stored.storedFileId, size: stored.storedSize, hash: stored.storedHash };
  }
  const shown = shownContent(current, mapping.contentScopeMissing === true);
  if (shown.contentState === 'failed') {
    throw new ApiError(409, 'content_failed', `The file's content could not be copied: ${shown.contentError?.message ?? 'unknown reason'}`, {
      fileId,
      reason: shown.contentError?.reason ?? null,
    });
  }
  throw new ApiError(409, 'content_pending', 'The file is recorded; its content is still being copied. Try again shortly.', { fileId });
}

async function serveStoredContent(
  { repos, log }: Pick<AppDeps, 'repos' | 'log'>,
  req: Request,
  res: Response,
  mapping: Mapping,
  file: FileRecord,
): Promise<void> {
  const fileId = file.dropboxId;
  const { storedFileId, size, hash } = storedOrRefused(await repos.contents.contentOfFile(file), mapping, fileId);
  const etag = `"${hash ?? ''}"`;
  // On a 304 too, which carries what a 200 would have (RFC 9110 §15.4.5). The bytes are whatever
  // was put in the folder: never sniffed or run as a page of this origin.
  res.set({
    ETag: etag,
    'Cache-Control': 'private, no-cache',
    'X-Content-Type-Options': 'nosniff',
    'Content-Security-Policy': "sandbox; default-src 'none'",
  });
  if (ifNoneMatchHolds(req.get('If-None-Match'), etag)) return void res.status(304).end();
  // A Range on a condition: only the bytes of the rev the client holds part of may be sliced. A
  // new rev replaces the bytes and the ETag, so a resumed download gets the whole new file rather
  // than a slice of it glued to the old one (RFC 9110 §13.1.5: strong comparison; no dates, as
  // no Last-Modified is sent).
  const ifRange = req.get('If-Range');
  // GET only: any other method ignores Range (RFC 9110 §14.2), so a HEAD shows the whole file.
  const range =
    req.method === 'GET' && (ifRange === undefined || ifRange.trim() === etag) ? byteRange(req.headers.range, size) : undefined;
  if (range === 'unsatisfiable') {
    res.set('Content-Range', `bytes */${size}`);
    throw new ApiError(416, 'range_not_satisfiable', `The range cannot be served from a file of ${size} bytes`, { size });
  }
  res.set({
    'Content-Type': contentTypeOf(file.name),
    'Content-Disposition': attachmentDisposition(file.name),
    'Accept-Ranges': 'bytes',
  });
  const [start, end] = range ?? [0, size];
  res.status(range ? 206 : 200).set('Content-Length', String(end - start));
  if (range) res.set('Content-Range', `bytes ${start}-${end - 1}/${size}`);
  if (end === start || req.method === 'HEAD') return void res.end();
  try {
    // GridFS ends a download quietly when its chunks run out early (deleted under it): a body
    // shorter than its Content-Length must break the connection, not end as if complete.
    const source = repos.contents.openDownload(storedFileId, { start, end });
    let sent = 0;
    source.on('data', (chunk: Buffer) => void (sent += chunk.length));
    await pipeline(source, res, { end: false });
    if (sent !== end - start) throw new Error(`the stored content ended after ${sent} of ${end - start} bytes`);
    res.end();
  } catch (err) {
    // A client that leaves mid-file is no error of ours; anything else after the headers went
    // can only end the connection.
    if (!res.writableFinished && !req.destroyed)
      log.warn('file content stream failed', { mappingId: mapping._id, fileId, error: err });
    res.destroy();
  }
}
