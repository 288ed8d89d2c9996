import { Router } from 'express';
import { NO_CONTENT } from '../db/fileContentsRepository';
import type { AppDeps } from './deps';
import { ApiError } from './errors';
import { findFile, findMapping } from './mappingAccess';
import { MAPPINGS_PATH } from './mappingsRouter';
import { fileParams, listFilesQuery, listRejectionsQuery, mappingParams, noQuery } from './schemas';
import { validate } from './validate';
import { fileView, rejectionView } from './views';

const DEFAULT_PAGE_SIZE = 100;

/**
 * What a mapping has recorded: its synced files and its rejections (names with special
 * characters, skipped subfolders). Still readable after the mapping is unmapped.
 */
export function mappingRecordsRouter(deps: Pick<AppDeps, 'repos'>): Router {
  const { repos } = deps;
  const router = Router();

  router.get(`${MAPPINGS_PATH}/:mappingId/files`, async (req, res) => {
    const { projectId, mappingId } = validate('params', mappingParams, { ...req.params });
    const query = validate('query', listFilesQuery, req.query);
    const mapping = await findMapping(repos, projectId, mappingId);
    const request = {
      limit: query.limit ?? DEFAULT_PAGE_SIZE,
      ...(query.after ? { after: query.after } : {}),
    };
    const deleted = query.deleted === 'true';
    const page =
      query.order === 'newest'
        ? await repos.files.listNewest(mapping._id, request, deleted).catch((err: unknown) => {
            if (!(err instanceof RangeError)) throw err;
            throw new ApiError(
              400,
              'invalid_request',
              'Query parameter "after" is not the `next` of a newest-first page',
              {
                fields: [{ field: 'after', in: 'query', message: 'not a `next` value of this listing' }],
              },
            );
          })
        : await repos.files.list(mapping._id, request, deleted);
    const contents = await repos.contents.contentOf(page.files);
    res.json({
      files: page.files.map((f) =>
        fileView(f, contents.get(f._id) ?? NO_CONTENT, mapping.contentScopeMissing === true),
      ),
      next: page.next ?? null,
    });
  });

  router.get(`${MAPPINGS_PATH}/:mappingId/files/:fileId`, async (req, res) => {
    const { projectId, mappingId, fileId } = validate('params', fileParams, { ...req.params });
    validate('query', noQuery, req.query);
    const mapping = await findMapping(repos, projectId, mappingId);
    const file = await findFile(repos, mapping, fileId);
    const content = await repos.contents.contentOfFile(file);
    res.json(fileView(file, content, mapping.contentScopeMissing === true));
  });

  router.get(`${MAPPINGS_PATH}/:mappingId/rejections`, async (req, res) => {
    const { projectId, mappingId } = validate('params', mappingParams, { ...req.params });
    const query = validate('query', listRejectionsQuery, req.query);
    const mapping = await findMapping(repos, projectId, mappingId);
    const page = await repos.rejections.list(mapping._id, {
      limit: query.limit ?? DEFAULT_PAGE_SIZE,
      ...(query.after ? { after: query.after } : {}),
      ...(query.kind ? { kind: query.kind } : {}),
    });
    res.json({ rejections: page.rejections.map(rejectionView), next: page.next ?? null });
  });

  return router;
}
