import type { AccountInput, TokenOptions } from './accounts';
import type { DropboxEmulatorControl } from './emulator';
import type { FaultSettings, ScriptedFault } from './faults';
import type { AppInput } from './oauth';
import type { BulkAddOptions, FileContent } from './tree';

/**
 * The control interface over HTTP (JSON in and out), for processes that cannot hold the
 * emulator object: the dev launcher, end-to-end tests. Tokens travel in bodies, never in URLs.
 */
export interface ControlAnswer {
  status: number;
  body?: unknown;
}

type Body = Record<string, unknown>;
type Handler = (
  params: string[],
  body: Body,
  query: URLSearchParams,
) => ControlAnswer | Promise<ControlAnswer>;

export interface ControlDeps {
  control: DropboxEmulatorControl;
  seedDemo(): unknown;
}

const ok = (body?: unknown): ControlAnswer => (body === undefined ? { status: 204 } : { status: 200, body });
const created = (body: unknown): ControlAnswer => ({ status: 201, body });

export function controlRoutes({ control, seedDemo }: ControlDeps): [string, RegExp, Handler][] {
  const account = '/_control/accounts/([^/]+)';
  return [
    ['GET', /^\/_control\/health$/u, () => ok({ ok: true })],
    ['POST', /^\/_control\/reset$/u, () => (control.reset(), ok())],
    ['POST', /^\/_control\/seed-demo$/u, () => created(seedDemo())],
    ['GET', /^\/_control\/accounts$/u, () => ok(control.listAccounts())],
    [
      'POST',
      /^\/_control\/accounts$/u,
      (_p, body) => created(control.addAccount(body as unknown as AccountInput)),
    ],
    [
      'POST',
      new RegExp(`^${account}/tokens$`, 'u'),
      ([id], body) => created({ token: control.issueToken(id as string, body as TokenOptions) }),
    ],
    ['POST', /^\/_control\/tokens\/expire$/u, (_p, body) => (control.expireToken(text(body, 'token')), ok())],
    ['POST', /^\/_control\/tokens\/revoke$/u, (_p, body) => (control.revokeToken(text(body, 'token')), ok())],
    ['POST', /^\/_control\/apps$/u, (_p, body) => created(control.registerApp(body as unknown as AppInput))],
    [
      'PUT',
      /^\/_control\/apps\/([^/]+)\/lifetime$/u,
      ([key], body) => (control.setAccessTokenLifetime(key as string, Number(body['seconds'])), ok()),
    ],
    [
      'POST',
      /^\/_control\/apps\/([^/]+)\/grants$/u,
      ([key], body) =>
        created({
          refreshToken: control.grantOffline(key as string, text(body, 'accountId'), {
            ...(typeof body['pkce'] === 'boolean' ? { pkce: body['pkce'] } : {}),
            ...(Array.isArray(body['scopes']) ? { scopes: (body['scopes'] as unknown[]).map(String) } : {}),
          }),
        }),
    ],
    ['POST', /^\/_control\/grants\/revoke$/u, (_p, body) => (control.revokeGrant(text(body, 'refreshToken')), ok())],
    ['GET', /^\/_control\/token-calls$/u, () => ok(control.tokenCalls())],
    ['DELETE', /^\/_control\/token-calls$/u, () => (control.resetTokenCalls(), ok())],
    [
      'POST',
      new RegExp(`^${account}/folders$`, 'u'),
      ([id], body) => created(control.addFolder(id as string, text(body, 'path'))),
    ],
    [
      'POST',
      new RegExp(`^${account}/files$`, 'u'),
      ([id], body) => created(control.addFile(id as string, text(body, 'path'), content(body))),
    ],
    [
      'POST',
      new RegExp(`^${account}/files/modify$`, 'u'),
      ([id], body) => ok(control.modifyFile(id as string, text(body, 'path'), content(body))),
    ],
    [
      'POST',
      new RegExp(`^${account}/move$`, 'u'),
      ([id], body) => ok(control.move(id as string, text(body, 'from'), text(body, 'to'))),
    ],
    [
      'POST',
      new RegExp(`^${account}/delete$`, 'u'),
      ([id], body) => (control.remove(id as string, text(body, 'path')), ok()),
    ],
    [
      'POST',
      new RegExp(`^${account}/bulk$`, 'u'),
      ([id], body) =>
        created(
          control.bulkAddFiles(
            id as string,
            text(body, 'folder'),
            Number(body['count']),
            body as BulkAddOptions,
          ),
        ),
    ],
    [
      'GET',
      new RegExp(`^${account}/entry$`, 'u'),
      ([id], _body, query) => {
        const entry = control.entry(id as string, query.get('path') ?? '');
        return entry ? ok(entry) : { status: 404, body: { error: 'no entry at that path' } };
      },
    ],
    [
      'POST',
      new RegExp(`^${account}/cursor-reset$`, 'u'),
      ([id], body) => {
        const path = body['path'];
        control.forceCursorReset(id as string, typeof path === 'string' ? path : undefined);
        return ok();
      },
    ],
    [
      'POST',
      new RegExp(`^${account}/root-namespace$`, 'u'),
      ([id]) => ok({ rootNamespaceId: control.changeRootNamespace(id as string) }),
    ],
    ['GET', /^\/_control\/faults$/u, () => ok(control.faults())],
    ['PUT', /^\/_control\/faults$/u, (_p, body) => ok(control.setFaults(body as Partial<FaultSettings>))],
    ['DELETE', /^\/_control\/faults$/u, () => (control.clearFaults(), ok())],
    [
      'POST',
      /^\/_control\/faults\/next$/u,
      (_p, body) => {
        const count = body['count'];
        control.failNext(body as unknown as ScriptedFault, typeof count === 'number' ? count : 1);
        return ok();
      },
    ],
    [
      'POST',
      /^\/_control\/webhooks$/u,
      async (_p, body) => {
        const registration = { appKey: text(body, 'appKey'), appSecret: text(body, 'appSecret'), uri: text(body, 'uri') };
        await control.registerWebhook(registration);
        return created({ appKey: registration.appKey, uri: registration.uri });
      },
    ],
    ['GET', /^\/_control\/webhooks$/u, () => ok(control.webhookCounts())],
    [
      'POST',
      /^\/_control\/faults\/corrupt-downloads$/u,
      (_p, body) => {
        const count = body['count'];
        control.corruptNextDownloads(typeof count === 'number' ? count : 1);
        return ok();
      },
    ],
    ['GET', /^\/_control\/calls$/u, () => ok(control.calls())],
    ['DELETE', /^\/_control\/calls$/u, () => (control.resetCalls(), ok())],
    [
      'GET',
      /^\/_control\/violations$/u,
      () => {
        const violations = control.violations();
        return ok({ count: violations.length, violations });
      },
    ],
  ];
}

/** Dispatches one control request; unknown routes are 404, refused ones 400 with the reason. */
export async function handleControl(
  routes: [string, RegExp, Handler][],
  method: string,
  url: URL,
  rawBody: string,
): Promise<ControlAnswer> {
  let body: Body = {};
  if (rawBody.trim() !== '') {
    try {
      body = JSON.parse(rawBody) as Body;
    } catch {
      return { status: 400, body: { error: 'body is not JSON' } };
    }
  }
  const pathname = url.pathname.replace(/\/+$/u, '');
  for (const [m, pattern, handler] of routes) {
    const match = pattern.exec(pathname);
    if (!match || m !== method) continue;
    try {
      return await handler(match.slice(1).map(decodeURIComponent), body ?? {}, url.searchParams);
    } catch (err) {
      return { status: 400, body: { error: err instanceof Error ? err.message : String(err) } };
    }
  }
  return { status: 404, body: { error: `no control route ${method} ${pathname}` } };
}

function text(body: Body, key: string): string {
  const value = body[key];
  if (typeof value !== 'string') throw new Error(`"${key}" must be a string`);
  return value;
}

function content(body: Body): FileContent {
  const { content: bytes, contentBase64, seed, size, clientModified, isDownloadable, restricted } = body;
  return {
    ...(typeof bytes === 'string' ? { content: bytes } : {}),
    ...(typeof contentBase64 === 'string' ? { content: Buffer.from(contentBase64, 'base64') } : {}),
    ...(typeof seed === 'number' ? { seed } : {}),
    ...(typeof size === 'number' ? { size } : {}),
    ...(typeof clientModified === 'string' ? { clientModified } : {}),
    ...(typeof isDownloadable === 'boolean' ? { isDownloadable } : {}),
    ...(typeof restricted === 'boolean' ? { restricted } : {}),
  };
}
