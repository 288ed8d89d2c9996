/**
 * The bench worker's own view of its workflow tasks, from the SDK's Prometheus metrics
 * (METRICS_ADDRESS): whether a worker that falls behind is out of task slots, slow to poll, or
 * slow inside its tasks.
 */

/** One scrape: every sample line as its series (name and labels) and value. */
export type Scrape = Map<string, number>;

export async function scrape(address: string): Promise<Scrape> {
  const text = await (await fetch(`http://${address}/metrics`)).text();
  const samples: Scrape = new Map();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const cut = line.lastIndexOf(' ');
    const value = Number(line.slice(cut + 1));
    if (Number.isFinite(value)) samples.set(line.slice(0, cut), value);
  }
  return samples;
}

/** The sum over every series of a metric whose labels include all of `labels`. */
export function total(s: Scrape, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const [series, value] of s) {
    const brace = series.indexOf('{');
    if ((brace < 0 ? series : series.slice(0, brace)) !== name) continue;
    if (Object.entries(labels).every(([k, v]) => series.includes(`${k}="${v}"`))) sum += value;
  }
  return sum;
}

/** A histogram's mean (ms) between two scrapes; NaN when nothing was observed. */
export function meanBetween(a: Scrape, b: Scrape, name: string, labels: Record<string, string> = {}): number {
  const count = total(b, `${name}_count`, labels) - total(a, `${name}_count`, labels);
  const sum = total(b, `${name}_sum`, labels) - total(a, `${name}_sum`, labels);
  return count > 0 ? sum / count : NaN;
}

export function delta(a: Scrape, b: Scrape, name: string, labels: Record<string, string> = {}): number {
  return total(b, name, labels) - total(a, name, labels);
}

export function freeWorkflowSlots(s: Scrape): number {
  return total(s, 'temporal_worker_task_slots_available', { worker_type: 'WorkflowWorker' });
}

/** What one interval looked like from inside the worker. */
export function describeInterval(a: Scrape, b: Scrape, fewestFreeSlots: number): string {
  const ms = (v: number) => (Number.isNaN(v) ? '–' : `${Math.round(v)} ms`);
  return [
    `tasks polled ${delta(a, b, 'temporal_workflow_task_queue_poll_succeed')} (cache hits ${delta(a, b, 'temporal_sticky_cache_hit')}, misses ${delta(a, b, 'temporal_sticky_cache_miss')})`,
    // A task that reaches the worker's sticky queue for a run no longer cached costs one more call.
    `histories fetched ${delta(a, b, 'temporal_request', { operation: 'GetWorkflowExecutionHistory' })}`,
    `schedule-to-start ${ms(meanBetween(a, b, 'temporal_workflow_task_schedule_to_start_latency'))} avg`,
    `execution ${ms(meanBetween(a, b, 'temporal_workflow_task_execution_latency'))} avg`,
    `a poll waited ${ms(meanBetween(a, b, 'temporal_long_request_latency', { operation: 'PollWorkflowTaskQueue' }))} avg`,
    `a completion's call ${ms(meanBetween(a, b, 'temporal_request_latency', { operation: 'RespondWorkflowTaskCompleted' }))} avg`,
    `replaying ${ms(delta(a, b, 'temporal_workflow_task_replay_latency_sum'))} in all`,
    `local activities ${ms(meanBetween(a, b, 'temporal_local_activity_execution_latency'))} avg`,
    `task failures ${delta(a, b, 'temporal_workflow_task_execution_failed')}`,
    `forced evictions ${delta(a, b, 'temporal_sticky_cache_total_forced_eviction')}`,
    `cache ${total(b, 'temporal_sticky_cache_size')}`,
    `workflow task slots free ≥ ${fewestFreeSlots}`,
  ].join('; ');
}
