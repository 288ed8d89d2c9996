import { badInput, pathError } from './errors';

/**
 * How the API names a file or folder: a path ("" is the root, otherwise it starts with "/"),
 * an id ("id:..."), or a path inside a namespace ("ns:<id>/..."). Paths compare
 * case-insensitively; `lower` is the key, `display` keeps the caller's casing.
 */
export type PathRef =
  | { kind: 'path'; lower: string; display: string }
  | { kind: 'id'; id: string }
  | { kind: 'ns'; namespaceId: string; lower: string; display: string };

const LIST_PATTERN = String.raw`(/(.|[\r\n])*)?|id:.*|(ns:[0-9]+(/.*)?)`;
const METADATA_PATTERN = String.raw`(/(.|[\r\n])*|id:.*)|(rev:.*)|(ns:[0-9]+(/.*)?)`;

/** Parses the `path` argument of a route the way Dropbox validates it (400 for bad input). */
export function parseApiPath(route: string, raw: unknown, options: { allowRoot: boolean }): PathRef {
  if (typeof raw !== 'string')
    throw badInput(route, `request body: path: expected string, got ${typeName(raw)}`);
  if (options.allowRoot && raw === '/') {
    throw badInput(
      route,
      'request body: path: Specify the root folder as an empty string rather than as "/".',
    );
  }
  const pattern = options.allowRoot ? LIST_PATTERN : METADATA_PATTERN;
  if (!new RegExp(`^(${pattern})$`, 'u').test(raw) || raw.startsWith('rev:')) {
    throw badInput(route, `request body: path: '${raw}' did not match pattern '${pattern}'`);
  }
  if (raw.startsWith('id:')) return { kind: 'id', id: raw };
  const ns = /^ns:([0-9]+)(\/.*)?$/u.exec(raw);
  if (ns) {
    const rest = checkedPath(ns[2] ?? '');
    return { kind: 'ns', namespaceId: ns[1] as string, lower: rest.toLowerCase(), display: rest };
  }
  const path = checkedPath(raw);
  return { kind: 'path', lower: path.toLowerCase(), display: path };
}

/** A trailing slash, an empty segment or a "."/".." segment is a malformed path (409). */
function checkedPath(path: string): string {
  if (path === '') return path;
  const segments = path.split('/').slice(1);
  if (segments.some((s) => s === '' || s === '.' || s === '..')) throw pathError('malformed_path');
  return path;
}

/**
 * The control interface is for people writing tests: it forgives a missing leading slash and a
 * trailing one, but still refuses empty or dot segments.
 */
export function normalizeControlPath(input: string): string {
  const trimmed = input.trim().replace(/\/+$/u, '');
  if (trimmed === '') return '';
  const path = trimmed.startsWith('/') ? trimmed : `/${trimmed}`;
  if (
    path
      .split('/')
      .slice(1)
      .some((s) => s === '' || s === '.' || s === '..')
  ) {
    throw new Error(`Not a usable Dropbox path: "${input}"`);
  }
  return path;
}

export function splitPath(path: string): { parent: string; name: string } {
  const cut = path.lastIndexOf('/');
  return { parent: path.slice(0, cut), name: path.slice(cut + 1) };
}

export function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'list';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'float';
  return typeof value === 'object' ? 'object' : typeof value;
}
