import { Router } from 'express';
import type { AppDeps } from './deps';
import { findMapping } from './mappingAccess';
import { MAPPINGS_PATH } from './mappingsRouter';
import { listFilesQuery, listRejectionsQuery, mappingParams } from './schemas';
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
    const page = await repos.files.list(mapping._id, {
      limit: query.limit ?? DEFAULT_PAGE_SIZE,
      ...(query.after ? { after: query.after } : {}),
    });
    res.json({ files: page.files.map(fileView), next: page.next ?? null });
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
