/**
 * The REST API, called with the API key kept in this tab's sessionStorage: never in a URL, a
 * cookie or localStorage, and gone when the tab closes.
 */
const KEY_NAME = 'dropbox-folder-sync.apiKey';

export const session = {
  key: () => sessionStorage.getItem(KEY_NAME),
  signIn: (key) => sessionStorage.setItem(KEY_NAME, key),
  signOut: () => sessionStorage.removeItem(KEY_NAME),
};

/** An error answer of the API: its status and `{code, message, details}`. */
export class ApiFailure extends Error {
  constructor(status, error) {
    super(error?.message ?? `The server answered ${status}`);
    this.status = status;
    this.code = error?.code ?? 'unknown';
    this.details = error?.details ?? {};
  }
}

export async function api(method, path, body, key = session.key()) {
  const headers = { accept: 'application/json' };
  if (key) headers.authorization = `Bearer ${key}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiFailure(0, { code: 'network', message: 'The service did not answer. Check your connection and try again.' });
  }
  const text = await res.text();
  let json = {};
  try {
    json = text ? JSON.parse(text) : {};
  } catch {
    json = {};
  }
  if (!res.ok) throw new ApiFailure(res.status, json.error);
  return json;
}

/** Paths under a project's Dropbox routes, each segment encoded. */
export function dropboxPath(projectId, ...parts) {
  return ['/v1/projects', projectId, 'dropbox', ...parts].map((p, i) => (i === 0 ? p : encodeURIComponent(p))).join('/');
}
