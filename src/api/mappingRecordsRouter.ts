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
 * An `after` must be a `next` of this mapping's listing (ids start with the mapping's): any other
 * string would page from an arbitrary place, answering an empty or repeated list as if it were
 * the rest.
 */
function afterOfMapping(after: string | undefined, mappingId: string, listing: string): { after?: string } {
  if (after === undefined || after === '') return {};
  if (!after.startsWith(`${mappingId}:`)) throw notANext(listing);
  return { after };
}

function notANext(listing: string): ApiError {
  return new ApiError(400, 'invalid_request', `Query parameter "after" is not the \`next\` of a ${listing} page`, {
    fields: [{ field: 'after', in: 'query', problem: 'is not a `next` value of this listing' }],
  });
}

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
    const newest = query.order === 'newest';
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const deleted = query.deleted === 'true';
    const page = newest
      ? await repos.files
          .listNewest(mapping._id, { limit, ...(query.after ? { after: query.after } : {}) }, deleted)
          .catch((err: unknown) => {
            if (!(err instanceof RangeError)) throw err;
            throw notANext('newest-first');
          })
      : await repos.files.list(mapping._id, { limit, ...afterOfMapping(query.after, mapping._id, 'file') }, deleted);
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
      ...afterOfMapping(query.after, mapping._id, 'rejection'),
      ...(query.kind ? { kind: query.kind } : {}),
    });
    res.json({ rejections: page.rejections.map(rejectionView), next: page.next ?? null });
  });

  return router;
}
