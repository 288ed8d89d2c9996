import { DEFAULT_CONTENT_CONCURRENCY } from '../domain/contentLimits';
import { createSlots, type Slots } from '../slots';

/**
 * The downloads a worker runs at once (CONTENT_CONCURRENCY), shared by every mapping's copy on
 * that worker: a worker holds at most this many files in flight, whatever it was given to run.
 */
export type ContentSlots = Slots;

export function createContentSlots(size = DEFAULT_CONTENT_CONCURRENCY): ContentSlots {
  return createSlots(size);
}
