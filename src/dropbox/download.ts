import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { DropboxCredentials } from './client';
import { classifyDropboxError } from './errors';
import { countDropboxCall } from '../metrics';

/** What `Dropbox-API-Result` says of the file sent. */
export interface DownloadedFile {
  id: string;
  name: string;
  rev: string;
  size: number;
  contentHash: string | null;
}

export interface Download {
  file: DownloadedFile;
  /** The bytes, read as they arrive: a 1 GiB file moves through a bounded buffer. */
  body: Readable;
}

export interface DownloadRequest {
  /** A path, `id:…` or `rev:…`. */
  path: string;
  /** Aborts the request and its body (an activity's cancellation). */
  signal?: AbortSignal;
}

/**
 * `/2/files/download` by a plain `fetch`, not the SDK: the SDK's `filesDownload` reads the whole
 * body into memory (`res.buffer()` into `fileBinary`, node-fetch's API, which Node's own fetch
 * does not even have), so a 1 GiB file would cost a gigabyte. Same origin, same auth header, same
 * path root, same error classification as the SDK's calls.
 */
export async function downloadFile(
  origin: string,
  timeoutMs: number,
  { token, rootNamespaceId }: DropboxCredentials,
  { path, signal }: DownloadRequest,
): Promise<Download> {
  // The time limit covers the answer's headers; the body may take as long as it takes.
  const headersDue = new AbortController();
  const timer = setTimeout(() => headersDue.abort(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  const abort = signal ? AbortSignal.any([signal, headersDue.signal]) : headersDue.signal;
  let res: Response;
  try {
    const url = `${origin}/2/files/download`;
    res = await countDropboxCall(url, fetch(url, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${token}`,
        'Dropbox-API-Arg': asciiJson({ path }),
        ...(rootNamespaceId ? { 'Dropbox-API-Path-Root': JSON.stringify({ '.tag': 'root', root: rootNamespaceId }) } : {}),
      },
      signal: abort,
    }));
  } catch (err) {
    throw classifyDropboxError(signal?.aborted ? signal.reason : err, path);
  } finally {
    clearTimeout(timer);
  }
  if (!res.ok) throw classifyDropboxError(await errorShape(res), path);
  const result = parseResult(res.headers.get('dropbox-api-result'));
  if (!res.body || !result) throw classifyDropboxError(new Error('Dropbox sent no file with its answer'), path);
  return { file: result, body: Readable.fromWeb(res.body as WebReadableStream<Uint8Array>) };
}

/** The shape `classifyDropboxError` knows from the SDK: status, headers, the JSON error body. */
async function errorShape(res: Response): Promise<{ status: number; headers: Headers; error: unknown }> {
  const text = await res.text();
  let error: unknown = text;
  try {
    error = JSON.parse(text) as unknown;
  } catch {
    // Dropbox's 400s and 5xx are plain text.
  }
  return { status: res.status, headers: res.headers, error };
}

function parseResult(header: string | null): DownloadedFile | undefined {
  if (!header) return undefined;
  const meta = JSON.parse(header) as Record<string, unknown>;
  if (typeof meta['rev'] !== 'string' || typeof meta['size'] !== 'number') return undefined;
  return {
    id: String(meta['id']),
    name: String(meta['name']),
    rev: meta['rev'],
    size: meta['size'],
    contentHash: typeof meta['content_hash'] === 'string' ? meta['content_hash'] : null,
  };
}

/** HTTP headers carry ASCII; Dropbox reads \uXXXX escapes in `Dropbox-API-Arg`. */
function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\u007f-\uffff]/gu, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
