/** The OpenAPI document, the health routes and the request log. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { expectStatus } from './fixtures';
import { type ApiHarness, startApiHarness } from './harness';

// The contract's routes, written out here rather than read from the code under test.
const CONTRACT_ROUTES = [
  'post /v1/orgs',
  'patch /v1/orgs/{orgId}',
  'post /v1/orgs/{orgId}/projects',
  'post /v1/users',
  'put /v1/projects/{projectId}/members/{userId}',
  'post /v1/projects/{projectId}/dropbox/connections',
  'get /v1/projects/{projectId}/dropbox/connections',
  'put /v1/projects/{projectId}/dropbox/connections/{connectionId}/token',
  'delete /v1/projects/{projectId}/dropbox/connections/{connectionId}',
  'get /v1/projects/{projectId}/dropbox/connections/{connectionId}/folders',
  'post /v1/projects/{projectId}/dropbox/oauth/start',
  'get /v1/dropbox/oauth/callback',
  'post /v1/projects/{projectId}/dropbox/mappings',
  'get /v1/projects/{projectId}/dropbox/mappings',
  'get /v1/projects/{projectId}/dropbox/mappings/{mappingId}',
  'post /v1/projects/{projectId}/dropbox/mappings/{mappingId}/pause',
  'post /v1/projects/{projectId}/dropbox/mappings/{mappingId}/resume',
  'post /v1/projects/{projectId}/dropbox/mappings/{mappingId}/sync',
  'delete /v1/projects/{projectId}/dropbox/mappings/{mappingId}',
  'get /v1/projects/{projectId}/dropbox/mappings/{mappingId}/files',
  'get /v1/projects/{projectId}/dropbox/mappings/{mappingId}/rejections',
  'get /healthz',
  'get /readyz',
  'get /v1/dropbox/webhook',
  'post /v1/dropbox/webhook',
  'get /v1/dropbox/webhook/{appKey}',
  'post /v1/dropbox/webhook/{appKey}',
];

type Doc = {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<
    string,
    Record<
      string,
      {
        parameters?: { name: string; in: string }[];
        requestBody?: unknown;
        responses: Record<string, unknown>;
      }
    >
  >;
  components: { schemas: Record<string, unknown> };
};

describe('OpenAPI, health and request log', () => {
  let h: ApiHarness;
  let doc: Doc;

  before(async () => {
    h = await startApiHarness();
    const res = await h.call('GET', '/openapi.json');
    expectStatus(res, 200);
    doc = res.body as Doc;
  });

  after(async () => {
    await h?.close();
  });

  it('serves an OpenAPI 3.1 document listing every route of the contract', () => {
    assert.match(doc.openapi, /^3\.1\.\d$/u);
    assert.ok(doc.info.title && doc.info.version);
    const listed = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m} ${path}`),
    );
    for (const route of CONTRACT_ROUTES) assert.ok(listed.includes(route), `${route} is documented`);
  });

  it('documents parameters, bodies and error responses from the validation schemas', () => {
    const create = doc.paths['/v1/projects/{projectId}/dropbox/mappings']!.post!;
    assert.ok(create.parameters?.some((p) => p.name === 'projectId' && p.in === 'path'));
    const body = (create.requestBody as { content: Record<string, { schema: Record<string, unknown> }> })
      .content['application/json']!.schema;
    assert.deepEqual(body.required, ['connectionId', 'dropboxPath']);
    assert.equal(body.additionalProperties, false);
    for (const status of ['201', '400', '401', '403', '404', '409', '503'])
      assert.ok(create.responses[status], `documents ${status}`);
    const files = doc.paths['/v1/projects/{projectId}/dropbox/mappings/{mappingId}/files']!.get!;
    assert.ok(files.parameters?.some((p) => p.name === 'limit' && p.in === 'query'));
    assert.ok(doc.components.schemas.Mapping && doc.components.schemas.Error);
    assert.ok(!JSON.stringify(doc).includes('"$schema"'), 'no nested $schema in OpenAPI 3.1');
  });

  it('declares every path parameter and resolves every $ref', () => {
    for (const [path, ops] of Object.entries(doc.paths)) {
      const inPath = [...path.matchAll(/\{(\w+)\}/gu)].map((m) => m[1]);
      for (const [method, op] of Object.entries(ops)) {
        const declared = (op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name);
        assert.deepEqual(declared.sort(), [...inPath].sort(), `${method} ${path}`);
        assert.ok(Object.keys(op.responses).length > 0);
      }
    }
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/schemas\/(\w+)"/gu)].map(
      (m) => m[1]!,
    );
    assert.ok(refs.length > 20);
    for (const ref of refs) assert.ok(doc.components.schemas[ref], `#/components/schemas/${ref} exists`);
  });

  it('answers /healthz with 200 {"status":"ok"} and /readyz with 200 when MongoDB and Temporal answer', async () => {
    const health = await h.call('GET', '/healthz');
    expectStatus(health, 200);
    assert.deepEqual(health.body, { status: 'ok' });
    const ready = await h.call('GET', '/readyz');
    expectStatus(ready, 200);
    assert.deepEqual(ready.body, { status: 'ready', checks: { mongo: true, temporal: true } });
  });

  it('answers /readyz with 503 without MongoDB, and stays in rotation (200 degraded) without Temporal, naming what is down', async () => {
    const withChecks = (checks: { mongo: boolean; temporal: boolean }) => h.serve({ ...h.deps, readiness: () => Promise.resolve(checks) });
    const degraded = await h.call('GET', '/readyz', { baseUrl: await withChecks({ mongo: true, temporal: false }) });
    expectStatus(degraded, 200);
    assert.deepEqual(degraded.body, { status: 'degraded', checks: { mongo: true, temporal: false }, failed: ['temporal'] });
    const down = await h.call('GET', '/readyz', { baseUrl: await withChecks({ mongo: false, temporal: true }) });
    expectStatus(down, 503);
    assert.deepEqual(down.body, { status: 'unavailable', checks: { mongo: false, temporal: true }, failed: ['mongo'] });
  });

  it('logs one JSON line per request with its id, route pattern, status and duration, and returns the id', async () => {
    const given = await h.call('GET', '/v1/orgs/o123/projects', {
      key: 'secret-user-key-123',
      headers: { 'x-request-id': 'req-abc.1' },
    });
    assert.equal(given.headers.get('x-request-id'), 'req-abc.1');
    const made = await h.call('PATCH', '/v1/orgs/abc', {
      key: h.rootKey,
      body: { name: 'Nobody' },
      headers: { 'x-request-id': 'has spaces' },
    });
    const madeId = made.headers.get('x-request-id') ?? '';
    assert.match(madeId, /^[0-9a-f-]{36}$/u, 'an unfit id is replaced');

    const lines = h.logLines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.msg === 'request');
    const first = lines.find((l) => l.requestId === 'req-abc.1');
    assert.ok(first);
    assert.equal(first.method, 'GET');
    assert.equal(first.status, 401);
    assert.equal(typeof first.durationMs, 'number');
    const second = lines.find((l) => l.requestId === madeId);
    assert.ok(second);
    assert.equal(second.route, '/v1/orgs/:orgId');
    assert.equal(second.method, 'PATCH');
    const all = h.logLines.join('\n');
    assert.ok(!all.includes('secret-user-key-123'), 'keys are never logged');
    assert.ok(!all.includes(h.rootKey), 'the root key is never logged');
    assert.ok(!all.includes('Nobody'), 'bodies are never logged');
  });
});
