import { pipeline } from 'node:stream/promises';
import { Router } from 'express';
import { shownContent } from '../domain/contentScope';
import { attachmentDisposition, byteRange, contentTypeOf } from '../domain/contentTypes';
import type { AppDeps } from './deps';
import { ApiError } from './errors';
import { findFile, findMapping } from './mappingAccess';
import { MAPPINGS_PATH } from './mappingsRouter';
import { fileParams, noQuery } from './schemas';
import { validate } from './validate';

/**
 * A synced file's bytes, streamed from GridFS: the verified content of its stored rev (while a
 * new rev is copied, the previous one), with `ETag` (Dropbox's content hash), `Range` requests and
 * its original name. A file of another project's mapping is not found.
 */
export function fileContentRouter(deps: Pick<AppDeps, 'repos' | 'log'>): Router {
  const { repos, log } = deps;
  const router = Router();

  router.get(`${MAPPINGS_PATH}/:mappingId/files/:fileId/content`, async (req, res) => {
    const { projectId, mappingId, fileId } = validate('params', fileParams, { ...req.params });
    validate('query', noQuery, req.query);
    const mapping = await findMapping(repos, projectId, mappingId);
    const file = await findFile(repos, mapping, fileId);
    const { current, stored } = await repos.contents.contentOfFile(file);
    if (!stored?.storedFileId || typeof stored.storedSize !== 'number') {
      const shown = shownContent(current, mapping.contentScopeMissing === true);
      if (shown.contentState === 'failed') {
        throw new ApiError(
          409,
          'content_failed',
          `The file's content could not be copied: ${shown.contentError?.message ?? 'unknown reason'}`,
          {
            fileId,
            reason: shown.contentError?.reason ?? null,
          },
        );
      }
      throw new ApiError(
        409,
        'content_pending',
        'The file is recorded; its content is still being copied. Try again shortly.',
        {
          fileId,
        },
      );
    }
    const size = stored.storedSize;
    const etag = `"${stored.storedHash ?? ''}"`;
    if (req.headers['if-none-match'] === etag) return void res.status(304).set('ETag', etag).end();
    const range = byteRange(req.headers.range, size);
    if (range === 'unsatisfiable') {
      res.set('Content-Range', `bytes */${size}`);
      throw new ApiError(
        416,
        'range_not_satisfiable',
        `The range cannot be served from a file of ${size} bytes`,
        {
          size,
        },
      );
    }
    res.set({
      'Content-Type': contentTypeOf(file.name),
      'Content-Disposition': attachmentDisposition(file.name),
      ETag: etag,
      'Accept-Ranges': 'bytes',
      'Cache-Control': 'private, no-cache',
    });
    const [start, end] = range ?? [0, size];
    res.status(range ? 206 : 200).set('Content-Length', String(end - start));
    if (range) res.set('Content-Range', `bytes ${start}-${end - 1}/${size}`);
    if (end === start || req.method === 'HEAD') return void res.end();
    try {
      await pipeline(repos.contents.openDownload(stored.storedFileId, { start, end }), res);
    } catch (err) {
      // A client that leaves mid-file is no error of ours; anything else after the headers went
      // can only end the connection.
      if (!res.writableFinished && !req.destroyed)
        log.warn('file content stream failed', { mappingId, fileId, error: err });
      res.destroy();
    }
  });

  return router;
}
