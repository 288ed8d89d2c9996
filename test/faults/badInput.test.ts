/**
 * Bad input, generated: over a thousand requests across every route of the contract, drawn by
 * a seeded generator (DFS_BAD_INPUT_SEED repeats a run): malformed JSON, wrong types, huge
 * strings, unicode edge cases, MongoDB operator objects, path traversal, and every route's ids
 * swapped for another tenant's. Every answer must be a 4xx in the contract's error shape, and
 * nothing may be written: every MongoDB collection and every workflow stays as it was.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../support/eventually';
import {
  connect,
  createProject,
  createProjectAdmin,
  createUser,
  dropboxAccount,
  expectStatus,
  setRole,
  type DropboxTestAccount,
  type ProjectAdmin,
  type TestUser,
} from '../api/fixtures';
import { type ApiHarness, startApiHarness } from '../api/harness';
import { snapshotDatabase } from './support/dbSnapshot';
import { percentEncode, sendRaw, type RawAnswer } from './support/rawHttp';

const CATEGORIES = [
  'malformed_json',
  'wrong_types',
  'huge',
  'unicode',
  'operators',
  'traversal',
  'tenant_swap',
] as const;
type Category = (typeof CATEGORIES)[number];

/** Requests per route drawn for each generated category (tenant swaps are enumerated instead). */
const SAMPLES: Record<Exclude<Category, 'tenant_swap'>, number> = {
  malformed_json: 10,
  wrong_types: 10,
  huge: 4,
  unicode: 10,
  operators: 10,
  traversal: 8,
};
const CONCURRENCY = 12;
const SEED = Number(process.env.DFS_BAD_INPUT_SEED ?? 0x5eed_2024) >>> 0;

// --- the generator's randomness ---------------------------------------------------------------

interface Rng {
  int(n: number): number;
  pick<T>(items: readonly T[]): T;
  chance(p: number): boolean;
}

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
function createRng(seed: number): Rng {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  return {
    int,
    pick: <T>(items: readonly T[]): T => {
      if (items.length === 0) throw new Error('pick from nothing');
      return items[int(items.length)]!;
    },
    chance: (p) => next() < p,
  };
}

// --- tenants and routes -------------------------------------------------------------------------

interface Tenant {
  admin: ProjectAdmin;
  account: DropboxTestAccount;
  connectionId: string;
  mappingId: string;
}

type IdName = 'orgId' | 'projectId' | 'userId' | 'connectionId' | 'mappingId';
type Ids = Record<IdName, string>;

interface Route {
  name: string;
  method: string;
  management: boolean;
  params: readonly IdName[];
  /** Ids are inserted as they are: encode them first where needed. */
  path(ids: Ids): string;
  /** A valid body for tenant `t`, whose connection `connectionId` is (for mappings). */
  body?(t: Tenant, connectionId: string): Record<string, unknown>;
  /** Body fields whose absence makes the body invalid (all top-level ones when left out). */
  required?: readonly string[];
  /** Query parameters the route accepts. */
  query?: readonly string[];
}

const dropboxBase = (ids: Ids) => `/v1/projects/${ids.projectId}/dropbox`;
/** A folder that exists in every tenant's Dropbox and is not mapped: a valid body maps it. */
const UNMAPPED = '/Extra';
const MAPPED = '/Site A';

const ROUTES: readonly Route[] = [
  {
    name: 'POST /v1/orgs',
    method: 'POST',
    management: true,
    params: [],
    path: () => '/v1/orgs',
    body: () => ({ name: 'Org probe', features: { dropbox: true } }),
  },
  {
    name: 'PATCH /v1/orgs/:orgId',
    method: 'PATCH',
    management: true,
    params: ['orgId'],
    path: (i) => `/v1/orgs/${i.orgId}`,
    body: () => ({ name: 'Renamed', features: { dropbox: false } }),
    // Either field alone is a valid update; only the feature's own flag is required.
    required: ['features.dropbox'],
  },
  {
    name: 'POST /v1/orgs/:orgId/projects',
    method: 'POST',
    management: true,
    params: ['orgId'],
    path: (i) => `/v1/orgs/${i.orgId}/projects`,
    body: () => ({ name: 'Project probe' }),
  },
  {
    name: 'POST /v1/users',
    method: 'POST',
    management: true,
    params: [],
    path: () => '/v1/users',
    body: () => ({ email: 'probe.user@example.com' }),
  },
  {
    name: 'PUT /v1/projects/:projectId/members/:userId',
    method: 'PUT',
    management: true,
    params: ['projectId', 'userId'],
    path: (i) => `/v1/projects/${i.projectId}/members/${i.userId}`,
    body: () => ({ role: 'admin' }),
  },
  {
    name: 'POST …/connections',
    method: 'POST',
    management: false,
    params: ['projectId'],
    path: (i) => `${dropboxBase(i)}/connections`,
    body: (t) => ({ clientIdentification: t.account.email, accessToken: t.account.token }),
  },
  {
    name: 'GET …/connections',
    method: 'GET',
    management: false,
    params: ['projectId'],
    path: (i) => `${dropboxBase(i)}/connections`,
  },
  {
    name: 'PUT …/connections/:c/token',
    method: 'PUT',
    management: false,
    params: ['projectId', 'connectionId'],
    path: (i) => `${dropboxBase(i)}/connections/${i.connectionId}/token`,
    body: (t) => ({ accessToken: t.account.token }),
  },
  {
    name: 'DELETE …/connections/:c',
    method: 'DELETE',
    management: false,
    params: ['projectId', 'connectionId'],
    path: (i) => `${dropboxBase(i)}/connections/${i.connectionId}`,
  },
  {
    name: 'GET …/connections/:c/folders',
    method: 'GET',
    management: false,
    params: ['projectId', 'connectionId'],
    path: (i) => `${dropboxBase(i)}/connections/${i.connectionId}/folders`,
    query: ['path'],
  },
  {
    name: 'POST …/mappings',
    method: 'POST',
    management: false,
    params: ['projectId'],
    path: (i) => `${dropboxBase(i)}/mappings`,
    body: (_t, connectionId) => ({ connectionId, dropboxPath: UNMAPPED }),
  },
  {
    name: 'GET …/mappings',
    method: 'GET',
    management: false,
    params: ['projectId'],
    path: (i) => `${dropboxBase(i)}/mappings`,
  },
  {
    name: 'GET …/mappings/:m',
    method: 'GET',
    management: false,
    params: ['projectId', 'mappingId'],
    path: (i) => `${dropboxBase(i)}/mappings/${i.mappingId}`,
  },
  ...(['pause', 'resume', 'sync'] as const).map((action): Route => ({
    name: `POST …/mappings/:m/${action}`,
    method: 'POST',
    management: false,
    params: ['projectId', 'mappingId'],
    path: (i) => `${dropboxBase(i)}/mappings/${i.mappingId}/${action}`,
  })),
  {
    name: 'DELETE …/mappings/:m',
    method: 'DELETE',
    management: false,
    params: ['projectId', 'mappingId'],
    path: (i) => `${dropboxBase(i)}/mappings/${i.mappingId}`,
  },
  {
    name: 'GET …/mappings/:m/files',
    method: 'GET',
    management: false,
    params: ['projectId', 'mappingId'],
    path: (i) => `${dropboxBase(i)}/mappings/${i.mappingId}/files`,
    query: ['limit', 'after'],
  },
  {
    name: 'GET …/mappings/:m/rejections',
    method: 'GET',
    management: false,
    params: ['projectId', 'mappingId'],
    path: (i) => `${dropboxBase(i)}/mappings/${i.mappingId}/rejections`,
    query: ['limit', 'after', 'kind'],
  },
];

// --- probes -------------------------------------------------------------------------------------

interface Probe {
  category: Category;
  route: string;
  what: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer | string;
  /** The statuses this probe may get; any 4xx when left out. */
  expect?: readonly number[];
}

interface Outcome {
  probe: Probe;
  answer?: RawAnswer;
  problem?: string;
}

/** Raw bytes placed inside a JSON string: invalid UTF-8 the body parser must cope with. */
interface RawBytes {
  bytes: Buffer;
}
type UnicodeValue = string | RawBytes;

const UNICODE: readonly UnicodeValue[] = [
  '\ud800', // lone high surrogate, sent escaped as "\ud800"
  '\udfff', // lone low surrogate
  '\udc00\ud800', // a pair the wrong way round
  'x\ud83dy', // half an emoji
  '\u0000',
  'a\u0000b',
  '\u202eexe.pdf', // right-to-left override
  '\u202d\u202c\u2066\u2069',
  '😀',
  '👩‍👩‍👧‍👦', // ZWJ sequence
  '🏳️‍🌈',
  'e\u0301', // combining acute
  `Z${'\u0336\u0301\u0308'.repeat(40)}`, // stacked combining marks
  '\ufeff', // BOM
  '\uffff',
  '\ufffe',
  '\u200b\u200c\u200d',
  '\u2028\u2029',
  '\u0085',
  'İı', // Turkish dotted/dotless i: case folding traps
  'ß',
  'ﬃ', // ligature
  'ａｄｍｉｎ', // fullwidth
  '𝒶𝒹𝓂𝒾𝓃', // mathematical letters
  'مرحبا',
  'שלום',
  'नमस्ते',
  '\u{10ffff}',
  '\u{e0041}', // tag character
  '\u3000', // ideographic space
  { bytes: Buffer.from([0xff]) },
  { bytes: Buffer.from([0xc0, 0xaf]) }, // overlong "/"
  { bytes: Buffer.from([0xed, 0xa0, 0x80]) }, // CESU-8 surrogate
  { bytes: Buffer.from([0xf4, 0x90, 0x80, 0x80]) }, // above U+10FFFF
  { bytes: Buffer.from([0xe2, 0x82]) }, // truncated sequence
];

const OPERATORS: readonly unknown[] = [
  { $gt: '' },
  { $ne: null },
  { $where: 'sleep(1000) || true' },
  { $regex: '.*' },
  { $regex: '^', $options: 'i' },
  { $in: ['a', 'b'] },
  { $nin: [] },
  { $exists: true },
  { $expr: { $eq: [1, 1] } },
  { $or: [{}, { _id: { $ne: null } }] },
  { $function: { body: 'return true', args: [], lang: 'js' } },
  { $jsonSchema: {} },
  { $not: { $eq: '' } },
  { $type: 2 },
  { $gt: { $gt: '' } },
  [{ $ne: null }],
];

const OPERATOR_QUERIES = [
  'cursor[$gt]=',
  'after[$ne]=',
  'limit[$gt]=0',
  'path[$regex]=.*',
  'path[$ne]=',
  'kind[$ne]=x',
  '$where=1',
  'filter[$where]=sleep(1000)',
  '__proto__[isAdmin]=1',
  'constructor[prototype][isAdmin]=1',
  'projectId[$ne]=',
  '_id[$gt]=',
  'after[]=',
  'limit[]=1',
] as const;

const OPERATOR_IDS = [
  '$gt',
  '%24gt',
  '%24where',
  percentEncode('{"$ne":null}'),
  percentEncode('[$ne]'),
  percentEncode('[object Object]'),
  '__proto__',
  'constructor',
  'prototype',
  percentEncode('{}'),
] as const;

const MALFORMED: readonly string[] = [
  '{',
  '[',
  '}',
  '{{}}',
  '}{',
  "{'name':'x'}",
  '{name:"x"}',
  '{"a" 1}',
  '{"a":1,,"b":2}',
  '{"a":1,}',
  '[1,2,]',
  '{"v":NaN}',
  '{"v":Infinity}',
  '{"v":undefined}',
  '{"v":0x10}',
  '{"v":01}',
  '{"v":.5}',
  '{"v":+1}',
  '{"v":1e}',
  '/* comment */ {}',
  '{"a":1 // comment\n}',
  '{"a":"\\x41"}',
  '{"a":"\\u12"}',
  '{"a":"\\ud800\\u"}',
  '{"a":"line\nbreak"}',
  '{"a":"tab\tinside"}',
  '"unterminated',
  'true false',
  '\\',
  'nul',
  'tru',
  '{"a":1}}',
  '{"a":[1,2}',
  '\u0000',
  '{"a":"\u0000"',
  'name=x&features=1',
  '<xml/>',
];

/** Deep copy with `field` (dotted) set to `value`, or deleted when value is `DELETE`. */
const DELETE = Symbol('delete');
function withField(body: Record<string, unknown>, field: string, value: unknown): Record<string, unknown> {
  const copy = structuredClone(body);
  const parts = field.split('.');
  let target: Record<string, unknown> = copy;
  for (const part of parts.slice(0, -1)) target = target[part] as Record<string, unknown>;
  const last = parts[parts.length - 1]!;
  if (value === DELETE) delete target[last];
  else target[last] = value;
  return copy;
}

function valueAt(body: Record<string, unknown>, field: string): unknown {
  return field.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown>)[k], body);
}

function leafFields(body: Record<string, unknown>, prefix = ''): string[] {
  return Object.entries(body).flatMap(([k, v]) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? [`${prefix}${k}`, ...leafFields(v as Record<string, unknown>, `${prefix}${k}.`)]
      : [`${prefix}${k}`],
  );
}

/** JSON text of `body`, with any RawBytes values spliced in as the bytes themselves. */
function encodeBody(body: unknown): Buffer {
  const raws: Buffer[] = [];
  const text = JSON.stringify(body, (_k, v: unknown) => {
    if (v !== null && typeof v === 'object' && 'bytes' in v && Buffer.isBuffer((v as RawBytes).bytes)) {
      raws.push((v as RawBytes).bytes);
      return `@@RAW${raws.length - 1}@@`;
    }
    return v;
  });
  const pieces = text.split(/@@RAW(\d+)@@/u);
  return Buffer.concat(
    pieces.map((piece, i) => (i % 2 === 1 ? raws[Number(piece)]! : Buffer.from(piece, 'utf8'))),
  );
}

function unicodeText(value: UnicodeValue): string {
  return typeof value === 'string' ? value : value.bytes.toString('latin1');
}

/** Builds every probe for one run. */
function generateProbes(
  rng: Rng,
  ctx: {
    a: Tenant;
    b: Tenant;
    c: ProjectAdmin;
    member: TestUser;
    rootKey: string;
    nothingId: string;
  },
): Probe[] {
  const { a, b, c, member, rootKey, nothingId } = ctx;
  const idsOf = (t: Tenant): Ids => ({
    orgId: t.admin.orgId,
    projectId: t.admin.projectId,
    userId: t.admin.userId,
    connectionId: t.connectionId,
    mappingId: t.mappingId,
  });
  const own = idsOf(a);
  const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
  const ownKey = (r: Route) => (r.management ? rootKey : a.admin.key);
  const json = { 'content-type': 'application/json' };
  const probes: Probe[] = [];

  const add = (
    category: Category,
    r: Route,
    what: string,
    p: {
      ids?: Partial<Ids>;
      query?: string;
      body?: Buffer | string;
      headers?: Record<string, string>;
      key?: string | null;
      path?: string;
      expect?: readonly number[];
    },
  ) => {
    const key = p.key === undefined ? ownKey(r) : p.key;
    const path = p.path ?? r.path({ ...own, ...p.ids }) + (p.query ? `?${p.query}` : '');
    probes.push({
      category,
      route: r.name,
      what,
      method: r.method,
      path,
      headers: {
        ...(key === null ? {} : bearer(key)),
        ...(p.body !== undefined ? json : {}),
        ...p.headers,
      },
      ...(p.body !== undefined ? { body: p.body } : {}),
      ...(p.expect ? { expect: p.expect } : {}),
    });
  };
  const validBody = (r: Route) => r.body!(a, a.connectionId);

  // Id defects are possible on routes with ids; body defects on routes with bodies; query
  // defects everywhere (a route without query parameters refuses any).
  const idDefect = (r: Route, values: readonly string[]) => {
    const param = rng.pick(r.params);
    return { ids: { [param]: rng.pick(values) } as Partial<Ids>, what: `${param}` };
  };

  for (const r of ROUTES) {
    // malformed JSON: the body parser runs for every route, so every route gets it.
    for (let n = 0; n < SAMPLES.malformed_json; n++) {
      const base = r.body ? JSON.stringify(validBody(r)) : '{"x":1}';
      const kind = rng.int(8);
      if (kind === 0) {
        add('malformed_json', r, 'truncated', {
          body: base.slice(0, 1 + rng.int(base.length - 1)),
          expect: [400],
        });
      } else if (kind === 1) {
        add('malformed_json', r, 'trailing garbage', {
          body: base + rng.pick(['}', ']', ',', 'x', '{}', '"', '\u0000', ' 1']),
          expect: [400],
        });
      } else if (kind === 2) {
        add('malformed_json', r, 'leading garbage', {
          body: rng.pick(['x', '=', '<', ")]}'\n", '\u0000', ',']) + base,
          expect: [400],
        });
      } else if (kind === 3) {
        add('malformed_json', r, 'single quotes', { body: base.replace(/"/gu, "'"), expect: [400] });
      } else if (kind === 4) {
        add('malformed_json', r, 'trailing comma', { body: base.replace(/\}$/u, ',}'), expect: [400] });
      } else if (kind === 5) {
        add('malformed_json', r, 'unsupported charset', {
          body: base,
          headers: {
            'content-type': `application/json; charset=${rng.pick(['latin1', 'koi8-r', 'shift_jis', 'x-unknown'])}`,
          },
          expect: [415],
        });
      } else if (kind === 6) {
        // Encodings the parser cannot undo; a gzip/deflate/br lie has its own test below.
        add('malformed_json', r, 'unsupported content-encoding', {
          body: base,
          headers: { 'content-encoding': rng.pick(['compress', 'x-zip', 'zip', 'identity, gzip2', 'exi']) },
          expect: [415],
        });
      } else {
        add('malformed_json', r, 'not JSON', { body: rng.pick(MALFORMED), expect: [400] });
      }
    }

    // wrong types: fields, missing and unknown fields, non-object bodies, queries, ids.
    for (let n = 0; n < SAMPLES.wrong_types; n++) {
      const kind = rng.int(r.body ? 6 : 2);
      if (kind === 0) {
        const q = r.query ? rng.pick(r.query) : 'x';
        const bad: Record<string, readonly string[]> = {
          limit: [
            '0',
            '1001',
            '-1',
            'abc',
            '1.5',
            '1e3',
            '0x10',
            '',
            '%201',
            percentEncode('١٢'),
            '99999999',
            'Infinity',
          ],
          after: [''],
          kind: ['all', 'SUBFOLDER', 'subfolders', '', 'special_characters,subfolder'],
          path: [],
          x: [],
        };
        const values = bad[q] ?? [];
        const query =
          values.length > 0 && rng.chance(0.6)
            ? `${q}=${rng.pick(values)}`
            : rng.pick([
                `${q}=1&${q}=2`,
                `${rng.pick(['verbose', 'page', 'sort', 'fields', 'include', 'x'])}=1`,
                r.query ? `${r.query[0]}=1&unknown=1` : 'limit=10',
              ]);
        add('wrong_types', r, `query ${query.slice(0, 20)}`, { query, expect: [400] });
      } else if (kind === 1) {
        if (r.params.length === 0) {
          add('wrong_types', r, 'id on an id-less route', {
            path: `${r.path(own)}/${own.orgId}`,
            expect: [404],
          });
        } else {
          const { ids, what } = idDefect(r, [
            '123',
            'true',
            'null',
            'undefined',
            '0',
            '-1',
            own.projectId.toUpperCase(),
            own.projectId.slice(1),
            `${own.projectId}0`,
            `g${own.projectId.slice(1)}`,
            `${own.projectId}%20`,
            `%20${own.projectId}`,
            `${own.projectId}%0A`,
            `${own.projectId}.json`,
            `${own.projectId};x=1`,
            percentEncode(own.projectId.replace(/(.{8})(.{4})(.{4})(.{4})/u, '$1-$2-$3-$4-')),
          ]);
          add('wrong_types', r, `bad id ${what}`, { ids, expect: [400] });
        }
      } else if (kind === 2) {
        const body = validBody(r);
        const field = rng.pick(leafFields(body));
        const current = valueAt(body, field);
        const wrong =
          typeof current === 'boolean'
            ? ['true', 1, 0, null, 'yes', [], {}]
            : typeof current === 'string'
              ? [42, 0, -1, 1.5, 1e308, true, false, null, [], ['x'], {}, { a: 'b' }, [[]]]
              : [42, true, null, 'x', [], ''];
        add('wrong_types', r, `field ${field}`, {
          body: JSON.stringify(withField(body, field, rng.pick(wrong))),
          expect: [400],
        });
      } else if (kind === 3) {
        const body = validBody(r);
        const field = rng.pick(r.required ?? Object.keys(body));
        add('wrong_types', r, `missing ${field}`, {
          body: JSON.stringify(withField(body, field, DELETE)),
          expect: [400],
        });
      } else if (kind === 4) {
        const body = validBody(r);
        const extra = rng.pick(
          [
            'isAdmin',
            'role',
            '_id',
            'id',
            'projectId',
            'orgId',
            'state',
            'token',
            'apiKey',
            'createdAt',
            'Name',
            ' name',
          ].filter((k) => !(k in body)),
        );
        add('wrong_types', r, `unknown ${extra}`, {
          body: JSON.stringify({ ...body, [extra]: rng.pick([true, 'admin', 1, null, {}]) }),
          expect: [400],
        });
      } else {
        add('wrong_types', r, 'not an object', {
          body: rng.pick([
            '[]',
            '[{}]',
            '"text"',
            '123',
            'true',
            'null',
            `[${JSON.stringify(validBody(r))}]`,
          ]),
          expect: [400],
        });
      }
    }

    // huge: bodies just under and far over the 100 kB limit, huge queries and ids.
    for (let n = 0; n < SAMPLES.huge; n++) {
      const kind = rng.int(r.body ? 7 : 4);
      if (kind === 0) {
        const size = rng.pick([2 * 1024 * 1024, 150_000, 102_401]);
        const body = r.body ? validBody(r) : {};
        const field = r.body ? rng.pick(Object.keys(body)) : 'x';
        const filler = rng.pick(['x', 'é', '€', '😀']);
        const text = JSON.stringify({
          ...body,
          [field]: filler.repeat(Math.ceil(size / Buffer.byteLength(filler))),
        });
        add('huge', r, `${Math.round(size / 1024)} kB body`, { body: text, expect: [413] });
      } else if (kind === 1) {
        if (r.params.length === 0) {
          add('huge', r, 'huge unknown query', { query: `x=${'a'.repeat(8_000)}`, expect: [400] });
        } else {
          const { ids, what } = idDefect(r, ['a'.repeat(8_000), 'f'.repeat(4_096), '0'.repeat(33)]);
          add('huge', r, `huge ${what}`, { ids, expect: [400] });
        }
      } else if (kind === 2) {
        const q = r.query ? rng.pick(r.query) : rng.pick(['x', 'q', 'search']);
        const length = q === 'path' ? 4_097 + rng.int(4_000) : q === 'after' ? 1_025 + rng.int(6_000) : 8_000;
        const value =
          q === 'limit' ? '9'.repeat(length) : q === 'path' ? `/${'p'.repeat(length)}` : 'a'.repeat(length);
        add('huge', r, `huge query ${q}`, { query: `${q}=${value}`, expect: [400] });
      } else if (kind === 3) {
        add('huge', r, 'header-sized key', { key: `k${'e'.repeat(600)}`, expect: [401] });
      } else if (kind === 4) {
        const body = validBody(r);
        const field = rng.pick(leafFields(body).filter((f) => typeof valueAt(body, f) === 'string'));
        const filler = rng.pick(['x', 'é', '€']);
        // Under the 100 kB limit once encoded, over every field's length limit.
        const value = filler.repeat(Math.floor(99_000 / Buffer.byteLength(filler)));
        add('huge', r, `~99 kB field ${field}`, {
          body: JSON.stringify(withField(body, field, value)),
          expect: [400],
        });
      } else if (kind === 5) {
        const many: Record<string, unknown> = { ...validBody(r) };
        for (let k = 0; k < 3_000; k++) many[`k${k}`] = k;
        add('huge', r, '3000 unknown fields', { body: JSON.stringify(many), expect: [400] });
      } else {
        const body = validBody(r);
        const field = rng.pick(Object.keys(body));
        const depth = rng.pick([1_000, 10_000, 40_000]);
        const text = JSON.stringify(withField(body, field, '@@DEEP@@')).replace(
          '"@@DEEP@@"',
          `${'['.repeat(depth)}${']'.repeat(depth)}`,
        );
        add('huge', r, `${depth}-deep nesting`, { body: text, expect: [400] });
      }
    }

    // unicode: in ids, queries and bodies, placed where the request cannot succeed.
    for (let n = 0; n < SAMPLES.unicode; n++) {
      const u = rng.pick(UNICODE);
      const kind = rng.int(r.body ? 3 : 2);
      if (kind === 0 && r.params.length > 0) {
        const param = rng.pick(r.params);
        if (typeof u === 'string') {
          const where = rng.int(3);
          const value = where === 0 ? u : where === 1 ? `${own[param]}${u}` : `${u}${own[param]}`;
          add('unicode', r, `unicode in ${param}`, {
            ids: { [param]: percentEncode(value) } as Partial<Ids>,
            expect: [400],
          });
        } else {
          // Invalid UTF-8 in a path has its own test below; here it goes in the query.
          const bytes = [...u.bytes].map((x) => `%${x.toString(16).padStart(2, '0')}`).join('');
          add('unicode', r, 'invalid UTF-8 query key', { query: `k${bytes}=${bytes}`, expect: [400] });
        }
      } else if (kind === 0 || kind === 1) {
        const text = unicodeText(u);
        if (r.query?.includes('path')) {
          const value = `/Nope-${n}-${typeof u === 'string' ? text : 'x'}`;
          const encoded =
            typeof u === 'string'
              ? percentEncode(value)
              : percentEncode(value) +
                [...u.bytes].map((x) => `%${x.toString(16).padStart(2, '0')}`).join('');
          add('unicode', r, 'unicode folder path', { query: `path=${encoded}`, expect: [400, 404] });
        } else {
          const name = typeof u === 'string' ? text : 'k';
          add('unicode', r, 'unicode query key', {
            query: `${percentEncode(`q${name}`)}=${percentEncode(name)}`,
            expect: [400],
          });
        }
      } else {
        // Body placements, one per route, each with a reason to fail besides the unicode itself
        // (or, where unicode is the only thing wrong, in a field that must refuse it).
        const withU = (prefix: string, suffix = '') =>
          typeof u === 'string'
            ? `${prefix}${u}${suffix}`
            : ({ bytes: Buffer.concat([Buffer.from(prefix), u.bytes, Buffer.from(suffix)]) } as RawBytes);
        let body: unknown;
        let ids: Partial<Ids> = {};
        let expect: readonly number[] = [400];
        switch (r.name) {
          case 'POST /v1/orgs':
            body = { name: withU('Org '), features: { dropbox: true }, [`x${unicodeText(u)}`]: 1 };
            break;
          case 'PATCH /v1/orgs/:orgId':
            ids = { orgId: nothingId };
            body = { name: withU('Org ') };
            expect = [400, 404];
            break;
          case 'POST /v1/orgs/:orgId/projects':
            ids = { orgId: nothingId };
            body = { name: withU('') };
            expect = [400, 404];
            break;
          case 'POST /v1/users':
            body = {
              email: rng.pick([
                withU('', '@example.com'),
                withU('user@', '.example.com'),
                withU('us', 'er@example.com'),
              ]),
            };
            break;
          case 'PUT /v1/projects/:projectId/members/:userId':
            body = {
              role: rng.pick([withU('admin'), withU('', 'admin'), 'ADMİN', 'admın', 'ａｄｍｉｎ', 'Admin']),
            };
            break;
          case 'POST …/connections':
            body = rng.chance(0.5)
              ? { clientIdentification: withU('', a.account.email), accessToken: a.account.token }
              : { clientIdentification: a.account.email, accessToken: withU(a.account.token) };
            break;
          case 'PUT …/connections/:c/token':
            body = { accessToken: withU(rng.pick(['', a.account.token])) };
            break;
          case 'POST …/mappings': {
            const kindOfField = rng.int(3);
            body =
              kindOfField === 0
                ? { connectionId: a.connectionId, dropboxPath: withU(`/Nope-${n}-`) }
                : kindOfField === 1
                  ? { connectionId: a.connectionId, dropboxPath: `/Nope-${n}`, targetFolder: withU('') }
                  : { connectionId: withU(a.connectionId), dropboxPath: MAPPED };
            expect = [400, 404];
            break;
          }
          default:
            throw new Error(`no unicode body placement for ${r.name}`);
        }
        add('unicode', r, 'unicode in body', { ids, body: encodeBody(body), expect });
      }
    }

    // operators: in body fields, as extra keys, as the whole body, in queries, as ids.
    for (let n = 0; n < SAMPLES.operators; n++) {
      const kind = rng.int(r.body ? 5 : 2);
      if (kind === 0) {
        add('operators', r, 'operator query', { query: rng.pick(OPERATOR_QUERIES), expect: [400] });
      } else if (kind === 1) {
        if (r.params.length === 0) {
          add('operators', r, 'operator path segment', {
            path: `${r.path(own)}/${rng.pick(OPERATOR_IDS)}`,
            expect: [404],
          });
        } else {
          const { ids, what } = idDefect(r, OPERATOR_IDS);
          add('operators', r, `operator ${what}`, { ids, expect: [400] });
        }
      } else if (kind === 2) {
        const body = validBody(r);
        const field = rng.pick(leafFields(body));
        add('operators', r, `operator in ${field}`, {
          body: JSON.stringify(withField(body, field, rng.pick(OPERATORS))),
          expect: [400],
        });
      } else if (kind === 3) {
        const extra = rng.pick([
          ['$where', '1'],
          ['$set', { features: { dropbox: true } }],
          ['$inc', { n: 1 }],
          ['$unset', { token: '' }],
          ['__proto__', { isAdmin: true }],
          ['constructor', { prototype: { isAdmin: true } }],
          ['name.$', 'x'],
          ['features.dropbox', true],
          ['$or', [{}]],
        ] as const);
        // JSON.stringify drops an own "__proto__" key set through an object literal; write it by hand.
        const text = JSON.stringify(validBody(r)).replace(
          /\}$/u,
          `,${JSON.stringify(extra[0])}:${JSON.stringify(extra[1])}}`,
        );
        add('operators', r, `extra key ${extra[0]}`, { body: text, expect: [400] });
      } else {
        add('operators', r, 'operator body', { body: JSON.stringify(rng.pick(OPERATORS)), expect: [400] });
      }
    }

    // traversal: in ids (encoded and not), in the raw path, in Dropbox paths.
    for (let n = 0; n < SAMPLES.traversal; n++) {
      const kind = rng.int(r.name === 'POST …/mappings' || r.query?.includes('path') ? 3 : 2);
      if (kind === 0) {
        if (r.params.length === 0) {
          const bad = rng.pick(['/..', '/%2e%2e', '/..%2f..%2fusers', '/%2e%2e%2f%2e%2e']);
          add('traversal', r, 'traversal after an id-less route', {
            path: `${r.path(own)}${bad}`,
            expect: [404],
          });
        } else {
          const other = idsOf(b);
          const param = rng.pick(r.params);
          const value = rng.pick([
            '..',
            '%2e%2e',
            '%2E%2E',
            '.%2e',
            '%2e.',
            '..%2f..',
            '..%2F..%2Forgs',
            '%2e%2e%2f%2e%2e%2fv1%2forgs',
            '..%5c..',
            '%2f',
            '%5c',
            '%252e%252e%252f',
            '....%2f%2f',
            '..%3b',
            `${own[param]}%2f..`,
            `${own[param]}%2f..%2f${other[param]}`,
            `%2e%2e%2f${other[param]}`,
            `..%2f..%2f${other.projectId}`,
            percentEncode('．．／'),
          ]);
          add('traversal', r, `traversal in ${param}`, {
            ids: { [param]: value } as Partial<Ids>,
            expect: [400, 404],
          });
        }
      } else if (kind === 1) {
        // Raw dot segments: nothing on the way may resolve them into another route.
        const path = r.path(own);
        const segments = path.split('/');
        const at = 1 + rng.int(segments.length - 1);
        const injected = rng.pick([
          ['..'],
          ['.'],
          ['..', '..'],
          ['x', '..'],
          ['..', 'orgs'],
          ['..', b.admin.projectId],
          ['..', '..', 'projects', b.admin.projectId, 'dropbox'],
        ]);
        const raw = [...segments.slice(0, at), ...injected, ...segments.slice(at)].join('/');
        add('traversal', r, 'raw dot segments', { path: raw, expect: [400, 404] });
      } else {
        const dropboxPath = rng.pick([
          '/..',
          '/../Extra',
          '/Site A/..',
          '/Site A/../Extra',
          '/./Extra',
          '..',
          '../Extra',
          '/Extra/.',
          '//Extra',
          '/Extra//x',
          '\\..\\Extra',
          '/Extra\\..\\x',
          '/%2e%2e/Extra',
          '/..%2fExtra',
          '/Extra/%2e%2e',
          'C:\\Windows\\System32',
          '/../../../etc/passwd',
          '/．．/Extra',
          '/Extra/\u2025',
          '/Extra/.../x',
        ]);
        if (r.name === 'POST …/mappings') {
          const body = rng.chance(0.8)
            ? { connectionId: a.connectionId, dropboxPath }
            : {
                connectionId: a.connectionId,
                dropboxPath: `/Nope-${n}`,
                targetFolder: rng.pick(['../../etc', '..\\..', '/abs', '../Extra']),
              };
          add('traversal', r, 'traversal in dropboxPath', {
            body: JSON.stringify(body),
            expect: [400, 404, 409],
          });
        } else {
          add('traversal', r, 'traversal in ?path', {
            query: `path=${percentEncode(dropboxPath)}`,
            expect: [400, 404],
          });
        }
      }
    }
  }

  // tenant swaps: enumerated, not drawn. A's admin on B's project and ids, A's admin on A's
  // project with B's ids, B's admin the other way round, a member, a feature-less org's admin,
  // the root key on project routes, and callers with no valid key at all.
  const bIds = idsOf(b);
  const tamperedKey = a.admin.key.slice(0, -1) + (a.admin.key.endsWith('A') ? 'B' : 'A');
  for (const r of ROUTES) {
    const bodyFor = (t: Tenant, connectionId: string) =>
      r.body ? JSON.stringify(r.body(t, connectionId)) : undefined;
    const swap = (
      what: string,
      key: string | null,
      ids: Ids,
      body: string | undefined,
      expect: readonly number[],
      headers?: Record<string, string>,
    ) =>
      add('tenant_swap', r, what, {
        key,
        ids,
        ...(body !== undefined ? { body } : {}),
        expect,
        ...(headers ? { headers } : {}),
      });
    if (r.management) {
      swap("A's admin on B's ids", a.admin.key, bIds, bodyFor(b, b.connectionId), [403]);
      swap("A's admin on A's ids", a.admin.key, own, bodyFor(a, a.connectionId), [403]);
      swap("B's admin on A's ids", b.admin.key, own, bodyFor(a, a.connectionId), [403]);
      swap("A's member on A's ids", member.key, own, bodyFor(a, a.connectionId), [403]);
      if (r.params.includes('userId')) {
        swap(
          "A's admin makes themself admin of B's project",
          a.admin.key,
          { ...bIds, userId: a.admin.userId },
          bodyFor(a, a.connectionId),
          [403],
        );
      }
    } else {
      const has = (p: IdName) => r.params.includes(p);
      const mixed = (project: Tenant, children: Tenant): Ids => ({
        ...idsOf(children),
        projectId: project.admin.projectId,
      });
      swap("A's admin on B's project and ids", a.admin.key, bIds, bodyFor(b, b.connectionId), [403]);
      swap("A's admin on B's project, A's ids", a.admin.key, mixed(b, a), bodyFor(a, a.connectionId), [403]);
      swap("B's admin on A's project and ids", b.admin.key, own, bodyFor(a, a.connectionId), [403]);
      swap("B's admin on A's project, B's ids", b.admin.key, mixed(a, b), bodyFor(b, b.connectionId), [403]);
      swap("A's member on A's project", member.key, own, bodyFor(a, a.connectionId), [403]);
      swap(
        "C's admin (feature off) on C's project, A's ids",
        c.key,
        { ...own, projectId: c.projectId },
        bodyFor(a, a.connectionId),
        [403],
      );
      swap("C's admin on A's project", c.key, own, bodyFor(a, a.connectionId), [403]);
      swap('the root key on a project route', rootKey, own, bodyFor(a, a.connectionId), [403]);
      if (has('connectionId') || has('mappingId') || r.name === 'POST …/mappings') {
        swap(
          "A's admin on A's project with B's ids",
          a.admin.key,
          mixed(a, b),
          bodyFor(a, b.connectionId),
          [404],
        );
        swap(
          "B's admin on B's project with A's ids",
          b.admin.key,
          mixed(b, a),
          bodyFor(b, a.connectionId),
          [404],
        );
      }
      if (r.name === 'PUT …/connections/:c/token') {
        swap(
          "B's token into A's connection",
          a.admin.key,
          own,
          JSON.stringify({ accessToken: b.account.token }),
          [422],
        );
      }
    }
    swap('no key', null, own, bodyFor(a, a.connectionId), [401]);
    swap('a tampered key', tamperedKey, own, bodyFor(a, a.connectionId), [401]);
    swap("B's Dropbox token as the key", b.account.token, own, bodyFor(a, a.connectionId), [401]);
    swap('Basic auth', null, own, bodyFor(a, a.connectionId), [401], {
      authorization: `Basic ${Buffer.from(`admin:${a.admin.key}`).toString('base64')}`,
    });
    swap('two keys', null, own, bodyFor(a, a.connectionId), [401], {
      authorization: `Bearer ${a.admin.key} ${b.admin.key}`,
    });
  }
  return probes;
}

// --- checking answers ---------------------------------------------------------------------------

/** Why an answer breaks the contract, or undefined. */
function problemWith(probe: Probe, answer: RawAnswer, secrets: readonly string[]): string | undefined {
  if (answer.status < 400 || answer.status > 499) return `status ${answer.status}`;
  if (probe.expect && !probe.expect.includes(answer.status))
    return `status ${answer.status}, expected ${probe.expect.join('/')}`;
  if (!/^application\/json/u.test(answer.contentType)) return `content-type "${answer.contentType}"`;
  let body: unknown;
  try {
    body = JSON.parse(answer.text);
  } catch {
    return 'answer is not JSON';
  }
  if (body === null || typeof body !== 'object' || Object.keys(body).join() !== 'error')
    return 'not {"error": …}';
  const error = (body as { error: Record<string, unknown> }).error;
  if (typeof error !== 'object' || error === null) return 'error is not an object';
  if (typeof error.code !== 'string' || !/^[a-z_]+$/u.test(error.code))
    return `bad code ${String(error.code)}`;
  if (typeof error.message !== 'string' || error.message.length === 0) return 'no message';
  const extra = Object.keys(error).filter((k) => !['code', 'message', 'details'].includes(k));
  if (extra.length > 0) return `unexpected keys ${extra.join()}`;
  if ('details' in error && (typeof error.details !== 'object' || error.details === null))
    return 'details not an object';
  if (/\n\s+at /u.test(answer.text)) return 'stack trace';
  if (secrets.some((s) => answer.text.includes(s))) return 'a secret in the answer';
  return undefined;
}

async function runAll(url: string, probes: Probe[], secrets: readonly string[]): Promise<Outcome[]> {
  const outcomes: Outcome[] = new Array<Outcome>(probes.length);
  let next = 0;
  const worker = async () => {
    for (;;) {
      const index = next++;
      const probe = probes[index];
      if (!probe) return;
      try {
        const answer = await sendRaw(url, {
          method: probe.method,
          path: probe.path,
          headers: probe.headers,
          ...(probe.body !== undefined ? { body: probe.body } : {}),
        });
        const problem = problemWith(probe, answer, secrets);
        outcomes[index] = { probe, answer, ...(problem ? { problem } : {}) };
      } catch (err) {
        outcomes[index] = { probe, problem: `no answer: ${(err as Error).message}` };
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return outcomes;
}

function describeOutcome(o: Outcome): string {
  const path = o.probe.path.length > 120 ? `${o.probe.path.slice(0, 120)}…` : o.probe.path;
  const answer = o.answer ? `${o.answer.status} ${o.answer.text.slice(0, 200)}` : '';
  return `[${o.probe.category}] ${o.probe.route} (${o.probe.what}): ${o.problem}\n    ${o.probe.method} ${path}\n    → ${answer}`;
}

// --- the suite ----------------------------------------------------------------------------------

describe('bad input, generated: every answer a 4xx in the error shape, nothing written', () => {
  let h: ApiHarness;
  let a: Tenant;
  let b: Tenant;
  let c: ProjectAdmin;
  let member: TestUser;

  const workflowState = async () => {
    const runs: string[] = [];
    for await (const info of h.temporal.workflow.list({ query: `TaskQueue = "${h.taskQueue}"` })) {
      const history = await h.temporal.workflow.getHandle(info.workflowId, info.runId).fetchHistory();
      runs.push(`${info.workflowId}/${info.runId}: ${history.events?.length ?? 0} events`);
    }
    return runs.sort();
  };

  const tenant = async (): Promise<Tenant> => {
    const admin = await createProjectAdmin(h);
    const account = dropboxAccount(h);
    h.emulator.addFolder(account.accountId, MAPPED);
    h.emulator.addFolder(account.accountId, UNMAPPED);
    const connectionId = await connect(h, admin, account);
    const mapping = await h.call('POST', `/v1/projects/${admin.projectId}/dropbox/mappings`, {
      key: admin.key,
      body: { connectionId, dropboxPath: MAPPED },
    });
    expectStatus(mapping, 201);
    return { admin, account, connectionId, mappingId: mapping.body.id as string };
  };

  before(async () => {
    h = await startApiHarness();
    a = await tenant();
    b = await tenant();
    c = await createProjectAdmin(h, { dropbox: false });
    member = await createUser(h);
    await setRole(h, a.admin.projectId, member.userId, 'member');
    // A second project in A's organization, administered by B: B is an admin somewhere in A's org.
    const sideProject = await createProject(h, a.admin.orgId);
    await setRole(h, sideProject, b.admin.userId, 'admin');
  });

  after(async () => {
    await h?.close();
  });

  it(`answers ${'≥'}1,000 generated bad requests on every route with a 4xx in the error shape, and writes nothing`, async () => {
    const started = Date.now();
    const secrets = [
      h.rootKey,
      a.admin.key,
      b.admin.key,
      c.key,
      member.key,
      a.account.token,
      b.account.token,
    ];
    // Both mappings' workflows exist before the run; the run must add none and signal none.
    await eventually(async () => assert.equal((await workflowState()).length, 2), 10_000);
    const workflowsBefore = await workflowState();
    const dbBefore = await snapshotDatabase(h.db);

    const nothingId = 'f'.repeat(32);
    const probes = generateProbes(createRng(SEED), { a, b, c, member, rootKey: h.rootKey, nothingId });
    const outcomes = await runAll(h.url, probes, secrets);

    const dbAfter = await snapshotDatabase(h.db);
    // Visibility catches up within a moment; a workflow started by a probe would show by then.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const workflowsAfter = await workflowState();

    const perCategory: Record<string, number> = {};
    const histogram: Record<string, number> = {};
    const perRoute: Record<string, number> = {};
    let largestAnswer = 0;
    for (const o of outcomes) {
      perCategory[o.probe.category] = (perCategory[o.probe.category] ?? 0) + 1;
      perRoute[o.probe.route] = (perRoute[o.probe.route] ?? 0) + 1;
      const status = o.answer ? String(o.answer.status) : 'none';
      histogram[status] = (histogram[status] ?? 0) + 1;
      largestAnswer = Math.max(largestAnswer, o.answer?.text.length ?? 0);
    }
    const failures = outcomes.filter((o) => o.problem);
    console.log(
      [
        `bad input: seed ${SEED} (DFS_BAD_INPUT_SEED=${SEED} repeats this run)`,
        `  requests: ${outcomes.length} over ${Object.keys(perRoute).length} routes in ${((Date.now() - started) / 1000).toFixed(1)} s`,
        `  per category: ${CATEGORIES.map((cat) => `${cat} ${perCategory[cat] ?? 0}`).join(', ')}`,
        `  statuses: ${Object.entries(histogram)
          .sort()
          .map(([s, n]) => `${s}×${n}`)
          .join(', ')}`,
        `  largest answer: ${largestAnswer} bytes; collections compared: ${Object.keys(dbBefore).length}; workflows: ${workflowsBefore.length}`,
        `  contract broken by: ${failures.length}`,
      ].join('\n'),
    );

    assert.ok(outcomes.length >= 1_000, `only ${outcomes.length} requests`);
    assert.equal(Object.keys(perRoute).length, ROUTES.length, 'every route was probed');
    for (const cat of CATEGORIES)
      assert.ok((perCategory[cat] ?? 0) >= ROUTES.length, `${cat}: too few requests`);
    assert.deepEqual(
      failures.slice(0, 15).map(describeOutcome),
      [],
      `${failures.length} of ${outcomes.length} answers broke the contract`,
    );
    assert.deepEqual(dbAfter, dbBefore, 'MongoDB changed');
    assert.deepEqual(workflowsAfter, workflowsBefore, 'workflows started or signalled');
  });

  it('answers malformed percent-encoding in a path, and a body whose Content-Encoding lies, with 400, not 500', async () => {
    const dbBefore = await snapshotDatabase(h.db);
    const project = `/v1/projects/${a.admin.projectId}/dropbox`;
    const cases: { method: string; path: string; encoding?: string }[] = [
      { method: 'GET', path: '/v1/projects/%ff/dropbox/connections' },
      { method: 'GET', path: `${project}/connections/%c0%af/folders` },
      { method: 'DELETE', path: `${project}/mappings/%ed%a0%80` },
      { method: 'PATCH', path: '/v1/orgs/%e2%82' },
      { method: 'POST', path: '/v1/orgs', encoding: 'gzip' },
      { method: 'POST', path: `${project}/mappings`, encoding: 'deflate' },
      { method: 'GET', path: `${project}/connections`, encoding: 'br' },
    ];
    const problems: string[] = [];
    for (const { method, path, encoding } of cases) {
      const key = path.startsWith('/v1/orgs') ? h.rootKey : a.admin.key;
      const answer = await sendRaw(h.url, {
        method,
        path,
        headers: {
          authorization: `Bearer ${key}`,
          'content-type': 'application/json',
          ...(encoding ? { 'content-encoding': encoding } : {}),
        },
        body: '{"name":"x"}',
      });
      const probe: Probe = {
        category: 'malformed_json',
        route: path,
        what: 'known 500',
        method,
        path,
        headers: {},
        expect: [400, 415],
      };
      const problem = problemWith(probe, answer, [h.rootKey, a.admin.key]);
      if (problem)
        problems.push(`${method} ${path}${encoding ? ` (Content-Encoding: ${encoding})` : ''}: ${problem}`);
    }
    assert.deepEqual(await snapshotDatabase(h.db), dbBefore);
    assert.deepEqual(problems, []);
  });
});
