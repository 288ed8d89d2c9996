/**
 * Dropbox paths as the product stores them: the root is "", every other path starts with "/"
 * and has no trailing slash. Dropbox compares paths case-insensitively (`path_lower`).
 */
export function normalizeDropboxPath(input: string): string {
  const trimmed = input.trim().replace(/\/+$/u, '');
  if (trimmed === '' || trimmed === '/') return '';
  return trimmed.startsWith('/') ? trimmed : `/${trimmed}`;
}

export function dropboxPathKey(path: string): string {
  return normalizeDropboxPath(path).toLowerCase();
}

/** Why a path cannot name a Dropbox folder, or undefined when it can. */
export function dropboxPathProblem(path: string): string | undefined {
  if (path.length > 4096) return 'is longer than 4096 characters';
  const segments = normalizeDropboxPath(path).split('/').slice(1);
  if (segments.some((s) => s === '')) return 'has an empty segment ("//")';
  if (segments.some((s) => s === '.' || s === '..')) return 'has a "." or ".." segment';
  return undefined;
}
