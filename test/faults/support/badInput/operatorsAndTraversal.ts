/** MongoDB operators and path traversal, wherever a request carries a value. */
import { percentEncode } from '../rawHttp';
import { SAMPLES, type ProbeContext } from './probes';
import type { Route, Ids } from './routes';
import { OPERATORS, OPERATOR_QUERIES, OPERATOR_IDS, withField, leafFields } from './values';

/** In body fields, as extra keys, as the whole body, in queries, as ids. */
export function addOperators(p: ProbeContext, r: Route): void {
  const { rng, add, validBody, idDefect, own } = p;
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
}

/** In ids (encoded and not), in the raw path, in Dropbox paths. */
export function addTraversal(p: ProbeContext, r: Route): void {
  const { rng, add, a, b, idsOf, own } = p;
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
