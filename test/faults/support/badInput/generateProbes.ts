/** Builds every probe of one run, category by category, in an order the seed fixes. */
import { addHuge, addUnicode } from './hugeAndUnicode';
import { addMalformedJson, addWrongTypes } from './malformedAndWrongTypes';
import { addOperators, addTraversal } from './operatorsAndTraversal';
import { createProbeContext, type Probe, type ProbeTenants } from './probes';
import type { Rng } from './rng';
import { ROUTES } from './routes';
import { addTenantSwaps } from './tenantSwaps';

export function generateProbes(rng: Rng, tenants: ProbeTenants): Probe[] {
  const probes: Probe[] = [];
  const p = createProbeContext(rng, tenants, probes);
  for (const r of ROUTES) {
    addMalformedJson(p, r);
    addWrongTypes(p, r);
    addHuge(p, r);
    addUnicode(p, r);
    addOperators(p, r);
    addTraversal(p, r);
  }
  addTenantSwaps(p);
  return probes;
}
