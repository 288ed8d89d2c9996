import type { DemoSeed } from './dropboxEmulator/index';
import type { DemoRecord, DevState } from './devState';

interface ApiCall {
  status: number;
  body: Record<string, unknown>;
}

function caller(apiUrl: string) {
  return async (method: string, path: string, key: string, body?: unknown): Promise<ApiCall> => {
    const res = await fetch(`${apiUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  };
}

function expect(call: ApiCall, status: number, what: string): Record<string, unknown> {
  if (call.status !== status) throw new Error(`demo set-up: ${what} answered ${call.status}: ${JSON.stringify(call.body)}`);
  return call.body;
}

/**
 * The demo organization (Dropbox feature on), project and admin, and a connection to the demo
 * Dropbox account with a refresh token (so the demo keeps syncing past an access token's
 * lifetime), made through the API itself the way an operator and an admin would. A restart reuses
 * them; the emulator forgets its grants, so the connection gets the fresh refresh token.
 */
export async function ensureDemo(options: {
  apiUrl: string;
  rootKey: string;
  seed: DemoSeed;
  state: DevState;
}): Promise<DemoRecord> {
  const call = caller(options.apiUrl);
  const { seed, state } = options;
  const saved = await state.demo();
  if (saved && (await call('GET', `/v1/projects/${saved.projectId}/dropbox/connections`, saved.apiKey)).status === 200) {
    if (saved.connectionId) {
      const path = `/v1/projects/${saved.projectId}/dropbox/connections/${saved.connectionId}/token`;
      expect(
        await call('PUT', path, saved.apiKey, { refreshToken: seed.refreshToken, appKey: seed.appKey }),
        200,
        'replacing the demo refresh token',
      );
    }
    return saved;
  }

  const org = expect(
    await call('POST', '/v1/orgs', options.rootKey, { name: 'Demo Construction Oy', features: { dropbox: true } }),
    201,
    'creating the demo organization',
  );
  const project = expect(
    await call('POST', `/v1/orgs/${String(org.id)}/projects`, options.rootKey, { name: 'Tower B' }),
    201,
    'creating the demo project',
  );
  const user = expect(
    await call('POST', '/v1/users', options.rootKey, { email: 'admin@demo.example' }),
    201,
    'creating the demo admin',
  );
  const projectId = String(project.id);
  const apiKey = String(user.apiKey);
  expect(
    await call('PUT', `/v1/projects/${projectId}/members/${String(user.id)}`, options.rootKey, { role: 'admin' }),
    200,
    'making the demo user an admin',
  );
  const connection = expect(
    await call('POST', `/v1/projects/${projectId}/dropbox/connections`, apiKey, {
      clientIdentification: seed.email,
      refreshToken: seed.refreshToken,
      appKey: seed.appKey,
    }),
    201,
    'connecting the demo Dropbox account',
  );
  const record: DemoRecord = {
    orgId: String(org.id),
    projectId,
    userId: String(user.id),
    apiKey,
    connectionId: String(connection.id),
  };
  await state.saveDemo(record);
  return record;
}

/** Ready-to-paste requests for the admin's first steps. */
export function demoCurlLines(apiUrl: string, demo: DemoRecord, folderPath: string): string[] {
  const auth = `-H "Authorization: Bearer ${demo.apiKey}"`;
  const base = `${apiUrl}/v1/projects/${demo.projectId}/dropbox`;
  const json = `-H "Content-Type: application/json"`;
  const body = JSON.stringify({ connectionId: demo.connectionId, dropboxPath: folderPath });
  return [
    `# browse the demo account's folders`,
    `curl -s ${auth} "${base}/connections/${demo.connectionId}/folders?path=/Projects"`,
    `# map ${folderPath} into the project (starts its workflow)`,
    `curl -s ${auth} ${json} -d '${body}' ${base}/mappings`,
    `# list mappings, then files and rejections of one (put its id in M)`,
    `curl -s ${auth} ${base}/mappings`,
    `curl -s ${auth} ${base}/mappings/$M/files`,
    `curl -s ${auth} ${base}/mappings/$M/rejections`,
    `# download a file whose contentState is stored (put its id in F): Foundation plan.pdf is a real PDF`,
    `curl -s -OJ ${auth} "${base}/mappings/$M/files/$F/content"`,
    `curl -s -X POST ${auth} ${base}/mappings/$M/sync`,
  ];
}
