import { Router } from 'express';
import { z } from 'zod';
import { FEATURE_DISABLED_MESSAGE } from './projectAccess';
import { OPERATIONS, RESPONSES, type Operation } from './openapiOperations';

type JsonSchema = Record<string, unknown>;

/** JSON Schema 2020-12 as OpenAPI 3.1 embeds it: what a client sends (`input`), no `$schema`. */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

const openApiPath = (path: string) => path.replace(/:(\w+)/gu, '{$1}');

function parameters(op: Operation): JsonSchema[] {
  const out: JsonSchema[] = [];
  const add = (schema: z.ZodType | undefined, location: 'path' | 'query') => {
    if (!schema) return;
    const json = jsonSchema(schema, 'input') as {
      properties?: Record<string, JsonSchema>;
      required?: string[];
    };
    for (const [name, prop] of Object.entries(json.properties ?? {})) {
      const { description, ...rest } = prop;
      out.push({
        name,
        in: location,
        required: location === 'path' || (json.required ?? []).includes(name),
        ...(typeof description === 'string' ? { description } : {}),
        schema: rest,
      });
    }
  };
  add(op.params, 'path');
  add(op.query, 'query');
  return out;
}

// The server answers 431 before any route is chosen (clientErrors.ts), so every route can give it.
const HEADERS_TOO_LARGE = { 431: ['headers_too_large'] };

const COMMON_ERRORS: Record<Operation['auth'], Record<number, string[]>> = {
  none: HEADERS_TOO_LARGE,
  root: {
    400: ['invalid_request', 'invalid_json'],
    401: ['unauthorized'],
    403: ['forbidden'],
    413: ['payload_too_large'],
    ...HEADERS_TOO_LARGE,
  },
  user: {
    400: ['invalid_request'],
    401: ['unauthorized'],
    403: ['forbidden'],
    ...HEADERS_TOO_LARGE,
  },
  admin: {
    400: ['invalid_request', 'invalid_json'],
    401: ['unauthorized'],
    403: ['forbidden', 'feature_disabled'],
    413: ['payload_too_large'],
    ...HEADERS_TOO_LARGE,
  },
};

const BINARY = { '*/*': { schema: { type: 'string', contentMediaType: 'application/octet-stream' } } };

function responses(op: Operation): Record<string, JsonSchema> {
  const out: Record<string, JsonSchema> = {};
  const { success } = op;
  out[String(success.status)] = {
    description: success.description,
    // A file's bytes come with the Content-Type of its name (application/pdf, image/png, ...).
    ...(success.binary ? { content: BINARY } : {}),
    ...(success.schema
      ? { content: { 'application/json': { schema: { $ref: `#/components/schemas/${success.schema}` } } } }
      : {}),
    ...(success.text ? { content: { 'text/plain': { schema: { type: 'string' } } } } : {}),
  };
  if (success.binary) {
    out['206'] = { description: 'The requested range (Content-Range says which)', content: BINARY };
    out['304'] = { description: 'If-None-Match named the current ETag: no body' };
  }
  if (op.path === '/metrics') {
    out['200'] = { description: success.description, content: { 'text/plain': { schema: { type: 'string' } } } };
  }
  if (op.path === '/readyz') {
    out['503'] = {
      description: 'Not ready: MongoDB does not answer',
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Readiness' } } },
    };
  }
  const errors: Record<number, string[]> = { ...COMMON_ERRORS[op.auth] };
  for (const [status, codes] of Object.entries(op.errors ?? {})) {
    errors[Number(status)] = [...new Set([...(errors[Number(status)] ?? []), ...codes])];
  }
  if (op.auth !== 'none') errors[500] = ['internal_error'];
  for (const [status, codes] of Object.entries(errors)) {
    out[status] = {
      description: `Error codes: ${codes.join(', ')}`,
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
    };
  }
  return out;
}

function operation(op: Operation): JsonSchema {
  const params = parameters(op);
  return {
    operationId: `${op.method}${openApiPath(op.path).replace(/[^A-Za-z0-9]+(.)?/gu, (_m, c: string | undefined) => (c ?? '').toUpperCase())}`,
    summary: op.summary,
    ...(op.description ? { description: op.description } : {}),
    tags: [op.tag],
    ...(op.auth === 'none' ? { security: [] } : {}),
    ...(params.length ? { parameters: params } : {}),
    ...(op.body
      ? {
          requestBody: {
            required: true,
            content: { 'application/json': { schema: jsonSchema(op.body, 'input') } },
          },
        }
      : {}),
    responses: responses(op),
  };
}

/** The OpenAPI 3.1 document, generated from the same zod schemas that validate requests. */
export function buildOpenApiDocument(): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const op of OPERATIONS) {
    const path = openApiPath(op.path);
    paths[path] = { ...paths[path], [op.method]: operation(op) };
  }
  const schemas = Object.fromEntries(
    Object.entries(RESPONSES).map(([name, s]) => [name, jsonSchema(s, 'output')]),
  );
  return {
    openapi: '3.1.0',
    info: {
      title: 'Dropbox folder sync',
      version: '1.0.0',
      description:
        'Connect Dropbox accounts to projects and keep mapped folders synced, one Temporal workflow per mapping. ' +
        'Management routes take the root API key; Dropbox routes take the key of an admin of the project, whose ' +
        `organization has the Dropbox feature (otherwise 403 feature_disabled: "${FEATURE_DISABLED_MESSAGE}"). ` +
        'Every error is {"error": {"code", "message", "details"?}}.',
    },
    servers: [{ url: '/' }],
    tags: [
      { name: 'Management' },
      { name: 'Connections' },
      { name: 'Mappings' },
      { name: 'Health' },
      { name: 'Webhooks' },
      { name: 'Account' },
    ],
    security: [{ apiKey: [] }],
    paths,
    components: {
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer', description: 'Authorization: Bearer <api key>' },
      },
      schemas,
    },
  };
}

export function openApiRouter(): Router {
  const router = Router();
  // Built once: the schemas do not change while the process runs.
  const document = buildOpenApiDocument();
  router.get('/openapi.json', (_req, res) => {
    res.json(document);
  });
  return router;
}
