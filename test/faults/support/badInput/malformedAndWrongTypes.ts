/** Bodies that are not JSON, and requests whose fields, queries or ids have the wrong type. */
import { percentEncode } from '../rawHttp';
import { SAMPLES, type ProbeContext } from './probes';
import type { Route } from './routes';
import { MALFORMED, DELETE, withField, valueAt, leafFields } from './values';

/** The body parser runs for every route, so every route gets these. */
export function addMalformedJson(p: ProbeContext, r: Route): void {
  const { rng, add, validBody } = p;
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
}

/** Fields, missing and unknown fields, non-object bodies, queries, ids. */
export function addWrongTypes(p: ProbeContext, r: Route): void {
  const { rng, add, validBody, idDefect, own } = p;
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
        body: rng.pick(['[]', '[{}]', '"text"', '123', 'true', 'null', `[${JSON.stringify(validBody(r))}]`]),
        expect: [400],
      });
    }
  }
}
