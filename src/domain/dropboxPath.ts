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

/**
 * Why a path cannot name a Dropbox folder, or undefined when it can. Its length is the request
 * schema's to limit, on what is sent: the "/" added here must not make a valid request invalid.
 */
export function dropboxPathProblem(path: string): string | undefined {
  const segments = normalizeDropboxPath(path).split('/').slice(1);
  if (segments.some((s) => s === '')) return 'has an empty segment ("//")';
  if (segments.some((s) => s === '.' || s === '..')) return 'has a "." or ".." segment';
  return undefined;
}
