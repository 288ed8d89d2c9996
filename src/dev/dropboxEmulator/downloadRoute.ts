import type { Account } from './accounts';
import { type ApiDeps, bearerToken, checkPathRoot, resolve } from './apiRoutes';
import { checkArgs } from './apiArgs';
import { type ContentSpec, contentPieces, contentSize } from './content';
import { badInput, DropboxApiError, missingScope, pathError, unsupportedFile } from './errors';
import { fileMetadata, type MetadataJson, revisionMetadata } from './metadata';
import { parseApiPath } from './paths';

/** A content-endpoint call (`/2/files/download`): arguments travel in a header, not the body. */
export interface DownloadRequest {
  authorization: string | undefined;
  pathRoot: string | undefined;
  /** `Dropbox-API-Arg`, or the `arg` URL parameter. */
  arg: string | undefined;
  range: string | undefined;
}

export interface DownloadAnswer {
  status: 200 | 206;
  headers: Record<string, string>;
  content: ContentSpec;
  start: number;
  end: number;
}

const ROUTE = 'files/download';
export const DOWNLOAD_SCOPE = 'files.content.read';

/**
 * `POST /2/files/download` as Dropbox documents it: `{path}` (a path, `id:` or `rev:`) in
 * `Dropbox-API-Arg`, the file's metadata in `Dropbox-API-Result`, the bytes as the body; a
 * `Range` header answers 206 with the slice, or 416. A folder is 409 `path/not_file`; a file Dropbox
 * cannot send as it is (`is_downloadable: false`: Google Docs, Paper) 409 `unsupported_file`.
 */
export function prepareDownload(request: DownloadRequest, deps: ApiDeps): DownloadAnswer {
  const token = bearerToken(ROUTE, request.authorization);
  const { account, scopes } = deps.accounts.authenticate(token);
  if (!scopes.has(DOWNLOAD_SCOPE)) throw missingScope(DOWNLOAD_SCOPE);
  checkPathRoot(ROUTE, request.pathRoot, account);
  if (request.arg === undefined) {
    throw badInput(ROUTE, 'Must provide HTTP header "Dropbox-API-Arg" or URL parameter "arg".');
  }
  let body: unknown;
  try {
    body = JSON.parse(request.arg) as unknown;
  } catch {
    throw badInput(ROUTE, 'HTTP header "Dropbox-API-Arg": could not decode input as JSON');
  }
  const args = checkArgs(ROUTE, body, { path: 'string', rev: 'string' }, ['path']);
  const { metadata, content } = find(account, args['path'] as string);
  const size = contentSize(content);
  const headers: Record<string, string> = {
    'Content-Type': 'application/octet-stream',
    'Dropbox-API-Result': asciiJson(metadata),
    'Accept-Ranges': 'bytes',
  };
  const range = request.range === undefined ? undefined : parseRange(request.range, size);
  if (range === 'unsatisfiable') {
    throw new DropboxApiError(416, 'Requested Range Not Satisfiable', { 'Content-Range': `bytes */${size}` });
  }
  if (!range) {
    return { status: 200, headers: { ...headers, 'Content-Length': String(size) }, content, start: 0, end: size };
  }
  const [start, end] = range;
  return {
    status: 206,
    headers: { ...headers, 'Content-Length': String(end - start), 'Content-Range': `bytes ${start}-${end - 1}/${size}` },
    content,
    start,
    end,
  };
}

/** The bytes to send, corrupted (first byte flipped) when a test asked for a wrong download. */
export function* downloadPieces(answer: DownloadAnswer, corrupt: boolean): Generator<Buffer> {
  let first = corrupt;
  for (const piece of contentPieces(answer.content, answer.start, answer.end)) {
    if (first && piece.length > 0) {
      const copy = Buffer.from(piece);
      copy[0] = (copy[0] as number) ^ 0xff;
      first = false;
      yield copy;
    } else yield piece;
  }
}

function find(account: Account, raw: string): { metadata: MetadataJson; content: ContentSpec } {
  if (raw.startsWith('rev:')) {
    const revision = account.tree.lookupRev(raw.slice(4));
    if (!revision) throw pathError('not_found');
    if (!revision.node.isDownloadable) throw unsupportedFile();
    if (revision.node.restricted) throw pathError('restricted_content');
    const current = revision.node.rev === revision.rev;
    return { metadata: current ? fileMetadata(revision.node) : revisionMetadata(revision), content: revision.content };
  }
  const node = resolve(account, parseApiPath(ROUTE, raw, { allowRoot: false }));
  if (!node) throw pathError('not_found');
  if (node.kind !== 'file') throw pathError('not_file');
  if (!node.isDownloadable) throw unsupportedFile();
  if (node.restricted) throw pathError('restricted_content');
  return { metadata: fileMetadata(node), content: node.content };
}

/** HTTP headers carry ASCII: Dropbox escapes everything else in `Dropbox-API-Result` as \uXXXX. */
function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\u007f-\uffff]/gu, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** One range (`bytes=a-b`, `bytes=a-`, `bytes=-n`) as [start, end); anything else is ignored, as RFC 9110 allows. */
function parseRange(header: string, size: number): [number, number] | 'unsatisfiable' | undefined {
  const m = /^bytes=(\d*)-(\d*)$/u.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return [Math.max(0, size - suffix), size];
  }
  const start = Number(m[1]);
  const last = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size || last < start) return 'unsatisfiable';
  return [start, last + 1];
}
