/**
 * HTTP requests sent exactly as written: the path is not normalised (fetch would resolve `..`
 * and `%2e%2e`), the body is any bytes, and GET or DELETE may carry one.
 */
import { request } from 'node:http';

export interface RawRequest {
  method: string;
  /** Sent as it is: percent-encode what must be (see `percentEncode`). */
  path: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
}

export interface RawAnswer {
  status: number;
  contentType: string;
  text: string;
}

/** Resolves with the answer, or rejects with the socket error when none came. */
export function sendRaw(baseUrl: string, r: RawRequest): Promise<RawAnswer> {
  const url = new URL(baseUrl);
  const headers: Record<string, string | number> = { ...r.headers };
  if (r.body !== undefined) headers['content-length'] = Buffer.byteLength(r.body);
  return new Promise((resolve, reject) => {
    // A connection of its own: a server that closes after refusing a large body breaks no other request.
    const req = request(
      { host: url.hostname, port: url.port, method: r.method, path: r.path, headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            contentType: String(res.headers['content-type'] ?? ''),
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(r.body);
  });
}

/** UTF-8 bytes percent-encoded except RFC 3986's unreserved characters; never throws (lone surrogates become U+FFFD). */
export function percentEncode(value: string): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-._~]/u.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}
