/** Media types by file extension, for serving synced files; anything else is plain bytes. */
const BY_EXTENSION: Record<string, string> = {
  pdf: 'application/pdf',
  txt: 'text/plain; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
  json: 'application/json',
  xml: 'application/xml',
  html: 'text/html; charset=utf-8',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  tif: 'image/tiff',
  tiff: 'image/tiff',
  svg: 'image/svg+xml',
  heic: 'image/heic',
  mp4: 'video/mp4',
  zip: 'application/zip',
  dwg: 'image/vnd.dwg',
  dxf: 'image/vnd.dxf',
  ifc: 'application/x-step',
  doc: 'application/msword',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xls: 'application/vnd.ms-excel',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  ppt: 'application/vnd.ms-powerpoint',
  pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
};

export function contentTypeOf(name: string): string {
  const dot = name.lastIndexOf('.');
  const extension = dot > 0 ? name.slice(dot + 1).toLowerCase() : '';
  return BY_EXTENSION[extension] ?? 'application/octet-stream';
}

/**
 * `Content-Disposition` for a download under its original name (RFC 6266): an ASCII fallback in
 * `filename`, the exact name UTF-8 percent-encoded in `filename*` (RFC 8187), so that
 * `Kaivanto ä ö.dwg` arrives as itself.
 */
export function attachmentDisposition(name: string): string {
  const fallback = name.replace(/[^\x20-\x7e]|["\\%]/gu, '_');
  const encoded = encodeURIComponent(name).replace(/['()*]/gu, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}

/**
 * Whether an `If-None-Match` header names this (strong) ETag, compared as RFC 9110 §13.1.2 says:
 * a list, each tag weak or strong, or `*`. Not Express's `req.fresh`: it answers "stale" to any
 * request with `Cache-Control: no-cache`, which fetch() adds to every request it sends with
 * If-None-Match, and which is addressed to caches, not to the origin.
 */
export function ifNoneMatchHolds(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((tag) => tag.trim().replace(/^W\//u, '') === etag);
}

/**
 * One byte range of a `Range` header as [start, end) of `size` bytes: undefined when there is no
 * header, another unit or several ranges (the whole file is served: RFC 9110 lets a server ignore
 * Range, and no client of ours asks for a multipart answer), 'unsatisfiable' for a range that
 * cannot be served (416).
 */
export function byteRange(header: string | undefined, size: number): [number, number] | 'unsatisfiable' | undefined {
  if (header === undefined) return undefined;
  const value = header.trim();
  if (!/^bytes=/iu.test(value) || value.includes(',')) return undefined;
  // Any number of digits: a last position past the end means "to the end" (RFC 9110 §14.1.1).
  const m = /^bytes=(\d*)-(\d*)$/iu.exec(value);
  if (!m || (m[1] === '' && m[2] === '')) return 'unsatisfiable';
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return 'unsatisfiable';
    // A suffix of an empty file is satisfiable, and is the whole (empty) file.
    return size === 0 ? undefined : [Math.max(0, size - suffix), size];
  }
  const start = Number(m[1]);
  const last = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  return start >= size || last < start ? 'unsatisfiable' : [start, last + 1];
}
