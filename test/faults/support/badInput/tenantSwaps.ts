/** Every route called by someone who may not, or with another tenant's ids. */
import type { ProbeContext } from './probes';
import { ROUTES, type Ids, type IdName, type Tenant } from './routes';

/**
 * Tenant swaps: enumerated, not drawn. A's admin on B's project and ids, A's admin on A's
 * project with B's ids, B's admin the other way round, a member, a feature-less org's admin,
 * the root key on project routes, and callers with no valid key at all.
 */
export function addTenantSwaps(p: ProbeContext): void {
  const { add, a, b, c, member, rootKey, own, idsOf } = p;
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
}
