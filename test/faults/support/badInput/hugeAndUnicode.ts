/** Requests over the size limits, and unicode edge cases where a request cannot succeed. */
import { percentEncode } from '../rawHttp';
import { SAMPLES, type ProbeContext } from './probes';
import { MAPPED, type Route, type Ids } from './routes';
import { UNICODE, encodeBody, leafFields, unicodeText, valueAt, withField, type RawBytes } from './values';

/** Bodies just under and far over the 100 kB limit, huge queries and ids. */
export function addHuge(p: ProbeContext, r: Route): void {
  const { rng, add, validBody, idDefect } = p;
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
}

/** In ids, queries and bodies, placed where the request cannot succeed. */
export function addUnicode(p: ProbeContext, r: Route): void {
  const { rng, add, a, own, nothingId } = p;
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
            : percentEncode(value) + [...u.bytes].map((x) => `%${x.toString(16).padStart(2, '0')}`).join('');
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
}
