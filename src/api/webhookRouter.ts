import express, { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { Logger } from '../log';
import type { SealedToken } from '../domain/types';
import { TokenDecryptionError, TokenKeyMismatchError, type TokenCipher } from '../security/tokenCipher';
import { isDropboxSignature } from '../security/webhookSignature';
import type { ChangeNotifications } from './changeNotifications';
import { ApiError } from './errors';

export const WEBHOOK_PATH = '/v1/dropbox/webhook';

/** The secrets notifications are verified with. */
export interface DropboxAppSecrets {
  /** The service's own app (`DROPBOX_APP_SECRET`), for `/v1/dropbox/webhook`; none when unset. */
  ownAppSecret: string | undefined;
  /** The service's own app's key (`DROPBOX_APP_KEY`): its notifications may come to either route. */
  ownAppKey: string | undefined;
  /** An admin's own app by its key, for `/v1/dropbox/webhook/:appKey`; undefined when unknown. */
  appSecretFor(appKey: string): Promise<string | undefined>;
}

/** Where an admin's own app's secret is kept: on the connections made with that app. */
export interface OwnAppSecretSource {
  findAppSecret(appKey: string): Promise<{ connectionId: string; appSecret: SealedToken } | undefined>;
}

/**
 * The service's own app from its configuration; an admin's own app from the sealed secret of a
 * connection made with it (a PKCE-issued refresh token has no secret, so its app has no webhook).
 */
export function dropboxAppSecrets(deps: {
  config: { dropbox?: { appKey?: string | undefined; appSecret?: string | undefined } | undefined };
  connections: OwnAppSecretSource;
  cipher: Pick<TokenCipher, 'open'>;
}): DropboxAppSecrets {
  const { appKey, appSecret } = deps.config.dropbox ?? {};
  return {
    ownAppSecret: appSecret,
    ownAppKey: appKey,
    appSecretFor: async (key) => {
      if (appKey !== undefined && key === appKey) return appSecret;
      const found = await deps.connections.findAppSecret(key);
      return found === undefined ? undefined : deps.cipher.open(found.appSecret, { connectionId: found.connectionId });
    },
  };
}

export interface WebhookDeps {
  dropboxApps: DropboxAppSecrets;
  changeNotifications: ChangeNotifications;
  log: Logger;
}

// Dropbox's challenge is a short token; anything longer is not Dropbox.
export const challengeQuery = z.object({
  challenge: z.string().min(1).max(512).describe('Echoed back as the body'),
});
export const notificationBody = z.object({
  list_folder: z.object({
    accounts: z.array(z.string().min(1).max(200)).describe('Dropbox account ids whose files changed'),
  }),
});
export const appKeyParams = z.object({ appKey: z.string().min(1).describe("The admin's own Dropbox app key") });

/**
 * Dropbox webhooks. GET echoes the registration challenge. POST is verified against
 * `X-Dropbox-Signature` over the raw bytes (this route reads its own body, before the JSON
 * parser), answered at once, and then every mapping of each named account gets `syncNow`:
 * Dropbox wants its answer within 10 s whatever the number of mappings. No API key: the
 * signature is the authentication.
 */
export function webhookRouter(deps: WebhookDeps): Router {
  const router = Router();
  const rawBody = express.raw({ type: () => true, limit: '100kb' });

  const echoChallenge = (req: Request, res: Response) => {
    const parsed = challengeQuery.safeParse(req.query);
    if (!parsed.success) throw new ApiError(400, 'invalid_request', 'Query parameter "challenge" is required');
    res.status(200).type('text/plain').set('X-Content-Type-Options', 'nosniff').send(parsed.data.challenge);
  };

  /**
   * `appOf`: the admin's own app the route is for. Its notifications reach only the connections made
   * with it: whoever holds that app's secret could otherwise make any tenant's mappings sync.
   */
  const receive = (
    secretOf: (req: Request) => Promise<string | undefined>,
    missing: string,
    appOf: (req: Request) => string | undefined = () => undefined,
  ) =>
    async (req: Request, res: Response) => {
      const secret = await secretOf(req).catch((err: unknown) => {
        if (!(err instanceof TokenKeyMismatchError || err instanceof TokenDecryptionError)) throw err;
        // Not a 500: Dropbox would retry a notification nobody can verify until TOKEN_ENCRYPTION_KEY is back.
        deps.log.warn('webhook notification refused', {
          reason:
            "the app secret kept on this app's connection cannot be decrypted with TOKEN_ENCRYPTION_KEY; " +
            'restore that key or save the connection again',
        });
        throw forbidden();
      });
      if (secret === undefined) {
        deps.log.warn('webhook notification refused', { reason: missing });
        throw forbidden();
      }
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      if (!isDropboxSignature(secret, body, req.get('x-dropbox-signature'))) {
        deps.log.warn('webhook notification refused', { reason: 'X-Dropbox-Signature does not match the body' });
        throw forbidden();
      }
      const accounts = parseAccounts(body);
      res.status(200).end();
      const started = Date.now();
      const result = await deps.changeNotifications.accountsChanged(accounts, appOf(req));
      deps.log.info('webhook notification handled', {
        accounts: accounts.length,
        ...result,
        durationMs: Date.now() - started,
      });
    };

  router.get(WEBHOOK_PATH, echoChallenge);
  router.get(`${WEBHOOK_PATH}/:appKey`, echoChallenge);
  router.post(
    WEBHOOK_PATH,
    rawBody,
    receive(async () => deps.dropboxApps.ownAppSecret, 'DROPBOX_APP_SECRET is not set'),
  );
  router.post(
    `${WEBHOOK_PATH}/:appKey`,
    rawBody,
    receive(
      (req) => deps.dropboxApps.appSecretFor(String(req.params['appKey'])),
      'no app with that key',
      (req) => (req.params['appKey'] === deps.dropboxApps.ownAppKey ? undefined : String(req.params['appKey'])),
    ),
  );
  return router;
}

function forbidden(): ApiError {
  return new ApiError(403, 'invalid_signature', 'X-Dropbox-Signature is not the signature of this body');
}

function parseAccounts(body: Buffer): string[] {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    throw new ApiError(400, 'invalid_json', 'The request body is not valid JSON');
  }
  return notificationBody.parse(json).list_folder.accounts;
}
