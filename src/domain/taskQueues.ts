/**
 * File contents are copied on a task queue of their own, polled by the same workers. A copy may
 * run for minutes and waits for a download slot (CONTENT_CONCURRENCY); on the cycles' queue it
 * would hold one of the worker's activity slots meanwhile, and a first sync of many mappings
 * would leave none for the listings that make new files visible. On its own queue, copies beyond
 * what a worker downloads at once wait in the Temporal server, where any worker takes them.
 */
export function contentsTaskQueue(taskQueue: string): string {
  return `${taskQueue}-contents`;
}
