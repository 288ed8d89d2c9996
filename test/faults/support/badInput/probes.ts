/**
 * The probes of one run: what each one sends and may be answered with, and the context every
 * category's generator draws from. The categories themselves live beside this file.
 */
import type { ProjectAdmin, TestUser } from '../../../api/fixtures';
import type { Rng } from './rng';
import type { Ids, Route, Tenant } from './routes';

export const CATEGORIES = [
  'malformed_json',
  'wrong_types',
  'huge',
  'unicode',
  'operators',
  'traversal',
  'tenant_swap',
] as const;
export type Category = (typeof CATEGORIES)[number];

/** Requests per route drawn for each generated category (tenant swaps are enumerated instead). */
export const SAMPLES: Record<Exclude<Category, 'tenant_swap'>, number> = {
  malformed_json: 10,
  wrong_types: 10,
  huge: 4,
  unicode: 10,
  operators: 10,
  traversal: 8,
};

export interface Probe {
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

export interface ProbeRequest {
  ids?: Partial<Ids>;
  query?: string;
  body?: Buffer | string;
  headers?: Record<string, string>;
  key?: string | null;
  path?: string;
  expect?: readonly number[];
}

/** Who the run set up: tenants A and B, C's admin (feature off) and a member of A's project. */
export interface ProbeTenants {
  a: Tenant;
  b: Tenant;
  c: ProjectAdmin;
  member: TestUser;
  rootKey: string;
  /** An id of the right shape that names nothing. */
  nothingId: string;
}

export interface ProbeContext extends ProbeTenants {
  rng: Rng;
  /** A's ids: a probe changes only what it is about. */
  own: Ids;
  idsOf(t: Tenant): Ids;
  add(category: Category, r: Route, what: string, p: ProbeRequest): void;
  /** A valid body for the route, as A would send it. */
  validBody(r: Route): Record<string, unknown>;
  /** One of the route's ids replaced by one of `values`. */
  idDefect(r: Route, values: readonly string[]): { ids: Partial<Ids>; what: string };
}

/** The context the generators share; `probes` collects what they add. */
export function createProbeContext(rng: Rng, tenants: ProbeTenants, probes: Probe[]): ProbeContext {
  const { a, rootKey } = tenants;
  const idsOf = (t: Tenant): Ids => ({
    orgId: t.admin.orgId,
    projectId: t.admin.projectId,
    userId: t.admin.userId,
    connectionId: t.connectionId,
    mappingId: t.mappingId,
    fileId: t.fileId,
  });
  const own = idsOf(a);
  const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
  const ownKey = (r: Route) => (r.management ? rootKey : a.admin.key);
  const json = { 'content-type': 'application/json' };

  const add = (category: Category, r: Route, what: string, p: ProbeRequest) => {
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
  return { ...tenants, rng, own, idsOf, add, validBody, idDefect };
}
