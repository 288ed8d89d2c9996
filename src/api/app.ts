import express, { type Express } from 'express';
import { authenticate } from './auth';
import { connectionsRouter } from './connectionsRouter';
import type { AppDeps } from './deps';
import { errorHandler, notFoundHandler } from './errors';
import { contentLinkRouter, fileContentRouter } from './fileContentRouter';
import { healthRouter } from './health';
import { managementRouter } from './managementRouter';
import { mappingRecordsRouter } from './mappingRecordsRouter';
import { mappingsRouter } from './mappingsRouter';
import { meRouter } from './meRouter';
import { methodNotAllowed } from './methodNotAllowed';
import { oauthCallbackRouter, oauthStartRouter } from './oauthRouter';
import { metricsRouter } from './metricsRouter';
import { openApiRouter } from './openapi';
import { OPERATIONS } from './openapiOperations';
import { pageRouter } from './pageRouter';
import { requireProjectAdmin } from './projectAccess';
import { requestLog } from './requestLog';
import { createChangeNotifications } from './changeNotifications';
import { webhookRouter } from './webhookRouter';

export type { AppDeps } from './deps';

/**
 * The REST API as an Express app over its dependencies; `main.ts` passes real ones, tests pass
 * the same kinds pointed at test servers. Nothing here listens or connects.
 */
export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  // Flat query strings only: `?path[$gt]=` stays a literal (unknown) key, never an object.
  app.set('query parser', 'simple');

  app.use(requestLog(deps.log));
  app.use(healthRouter({ readiness: deps.readiness }));
  app.use(openApiRouter());
  // Dropbox sends the admin's browser here with no API key: the OAuth state authenticates it.
  app.use(oauthCallbackRouter(deps));
  // Dropbox signs its notifications instead of sending a key, over the raw body: before both.
  app.use(webhookRouter({ ...deps, changeNotifications: createChangeNotifications(deps) }));
  // A download link's signature authenticates it: the browser navigates there with no API key.
  app.use(contentLinkRouter(deps));
  app.use(pageRouter());
  app.use(metricsRouter(deps));
  // A keyless route asked with a method it does not take is told so without a key (405, not 401).
  app.use(methodNotAllowed(OPERATIONS.filter((op) => op.auth === 'none')));

  // Who is calling is settled before any body is read: outsiders get 401 for the cheapest price.
  app.use('/v1', authenticate({ repos: deps.repos, rootApiKey: deps.config.rootApiKey }));
  app.use(express.json({ limit: '100kb' }));
  app.use('/v1/projects/:projectId/dropbox', requireProjectAdmin(deps));

  app.use(managementRouter(deps));
  app.use(meRouter(deps));
  app.use(connectionsRouter(deps));
  app.use(oauthStartRouter(deps));
  app.use(mappingsRouter(deps));
  app.use(mappingRecordsRouter(deps));
  app.use(fileContentRouter(deps));

  app.use(methodNotAllowed(OPERATIONS));
  app.use(notFoundHandler());
  app.use(errorHandler(deps.log));
  return app;
}
