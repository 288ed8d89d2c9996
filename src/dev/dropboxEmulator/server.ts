import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { handleApiCall } from './apiRoutes';
import { controlRoutes, handleControl } from './controlRoutes';
import type { EmulatorState } from './emulator';
import { downloadPieces, prepareDownload } from './downloadRoute';
import { DropboxApiError } from './errors';
import type { OAuthAnswer } from './oauth';

/**
 * The HTTP face of the emulator: POST /2/<route> answers as Dropbox's API does (faults apply
 * here only), /_control/... drives the emulator.
 */
export interface ServerDeps {
  state: EmulatorState;
  seedDemo(): unknown;
}

export function createEmulatorServer({ state, seedDemo }: ServerDeps): Server {
  const routes = controlRoutes({ control: state, seedDemo });
  return createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent)
        writeText(res, 500, `emulator failure: ${err instanceof Error ? err.message : String(err)}`);
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://emulator');
    const body = await readBody(req);
    if (url.pathname.startsWith('/2/')) return api(req, res, url, body);
    if (url.pathname.startsWith('/oauth2/')) return oauth(req, res, url, body);
    if (url.pathname.startsWith('/_control/')) {
      const answer = await handleControl(routes, req.method ?? 'GET', url, body);
      if (answer.body === undefined) return void res.writeHead(answer.status).end();
      return writeJson(res, answer.status, answer.body);
    }
    writeText(res, 404, 'Not Found');
  }

  async function api(req: IncomingMessage, res: ServerResponse, url: URL, body: string): Promise<void> {
    const route = url.pathname.slice(3);
    const authorization = req.headers.authorization;
    // Calls are counted per token as sent, valid or not, and rate-limited per user and app.
    const token = /^Bearer\s+(\S+)/iu.exec(authorization ?? '')?.[1] ?? '';
    state.counter.recordCall(route, token);
    const { latencyMs } = state.faultInjector.settings();
    if (latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, latencyMs));
    let status = 200;
    try {
      if (req.method !== 'POST') throw new DropboxApiError(405, 'Method Not Allowed');
      const fault = state.faultInjector.faultFor(route, token, state.accounts.rateLimitKey(token));
      if (fault) throw fault;
      if (route === 'files/download') {
        const answer = prepareDownload(
          {
            authorization,
            pathRoot: header(req, 'dropbox-api-path-root'),
            arg: header(req, 'dropbox-api-arg') ?? url.searchParams.get('arg') ?? undefined,
            range: header(req, 'range'),
          },
          state.apiDeps(),
        );
        status = answer.status;
        res.writeHead(answer.status, baseHeaders(answer.headers));
        await writePieces(res, downloadPieces(answer, state.takeCorruptDownload()));
        return;
      }
      const result = handleApiCall(
        {
          route,
          authorization,
          pathRoot: header(req, 'dropbox-api-path-root'),
          contentType: header(req, 'content-type'),
          body,
        },
        state.apiDeps(),
      );
      writeJson(res, 200, result);
    } catch (err) {
      if (!(err instanceof DropboxApiError)) {
        status = 500;
        throw err;
      }
      status = err.status;
      if (typeof err.body === 'string') writeText(res, err.status, err.body, err.headers);
      else writeJson(res, err.status, err.body, err.headers);
    } finally {
      state.counter.recordStatus(status);
    }
  }

  /** The authorize page (GET shows it, POST is a click on it) and the token endpoint. */
  async function oauth(req: IncomingMessage, res: ServerResponse, url: URL, body: string): Promise<void> {
    const route = url.pathname.slice(1);
    const form = new URLSearchParams(body);
    let answer: OAuthAnswer;
    if (route === 'oauth2/authorize' && req.method === 'GET') answer = state.oauth.authorizePage(url.searchParams);
    else if (route === 'oauth2/authorize' && req.method === 'POST') answer = state.oauth.decide(form);
    else if (route === 'oauth2/token' && req.method === 'POST') {
      // Faults apply here too, so that a failing token endpoint can be shown to be retried.
      const fault = state.faultInjector.faultFor(route, 'oauth2');
      if (fault) {
        if (typeof fault.body === 'string') return writeText(res, fault.status, fault.body, fault.headers);
        return writeJson(res, fault.status, fault.body, fault.headers);
      }
      // Dropbox takes the parameters in the query string (as the SDK sends them) or the form body.
      const params = new URLSearchParams([...url.searchParams, ...form]);
      answer = state.oauth.token(req.headers.authorization, params);
    } else answer = { status: 404, text: 'Not Found' };
    if (answer.location) return void res.writeHead(answer.status, baseHeaders({ Location: answer.location })).end();
    if (answer.html !== undefined) {
      res.writeHead(answer.status, baseHeaders({ 'Content-Type': 'text/html; charset=utf-8' }));
      return void res.end(answer.html);
    }
    if (answer.json !== undefined) return writeJson(res, answer.status, answer.json);
    writeText(res, answer.status, answer.text ?? '');
  }
}

/** Writes with backpressure, so a 1 GiB body moves through a bounded buffer; stops if the client left. */
async function writePieces(res: ServerResponse, pieces: Iterable<Buffer>): Promise<void> {
  for (const piece of pieces) {
    if (res.destroyed) return;
    if (!res.write(piece)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          res.off('drain', done);
          res.off('close', done);
          resolve();
        };
        res.on('drain', done);
        res.on('close', done);
      });
    }
  }
  res.end();
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function baseHeaders(extra: Record<string, string>): Record<string, string> {
  return { 'X-Dropbox-Request-Id': randomBytes(16).toString('hex'), ...extra };
}

function writeJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  extra: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, baseHeaders({ 'Content-Type': 'application/json', ...extra }));
  res.end(text);
}

function writeText(
  res: ServerResponse,
  status: number,
  text: string,
  extra: Record<string, string> = {},
): void {
  res.writeHead(status, baseHeaders({ 'Content-Type': 'text/plain; charset=utf-8', ...extra }));
  res.end(text);
}
