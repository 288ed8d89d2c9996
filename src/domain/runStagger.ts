/**
 * How many cycles early a mapping's run ends, once, so that mappings created together do not all
 * continue as new in the same poll interval: each continue-as-new adds a workflow task (the new
 * run starting its timer), and 5,000 of them made one interval's 5,000 tasks 8,000 to 9,900
 * (git log -p -- BENCHMARKS.md). Chosen by the mapping id, so it is the same on every replay and spreads
 * mappings evenly over `cyclesPerRun` intervals: 0 to cyclesPerRun - 1.
 */
export function runShortening(mappingId: string, cyclesPerRun: number): number {
  if (!Number.isInteger(cyclesPerRun) || cyclesPerRun <= 1) return 0;
  // FNV-1a: ids that differ in a few characters still spread evenly.
  let hash = 0x811c9dc5;
  for (let i = 0; i < mappingId.length; i++) {
    hash ^= mappingId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % cyclesPerRun;
}
