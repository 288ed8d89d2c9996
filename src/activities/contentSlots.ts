import { DEFAULT_CONTENT_CONCURRENCY } from '../domain/contentLimits';

/**
 * The downloads a worker runs at once (CONTENT_CONCURRENCY), shared by every mapping's copy on
 * that worker: a worker holds at most this many files in flight, whatever it was given to run.
 */
export interface ContentSlots {
  run<T>(work: () => Promise<T>): Promise<T>;
}

export function createContentSlots(size = DEFAULT_CONTENT_CONCURRENCY): ContentSlots {
  let free = size;
  const waiting: (() => void)[] = [];
  return {
    async run(work) {
      if (free > 0) free -= 1;
      else await new Promise<void>((resolve) => waiting.push(resolve));
      try {
        return await work();
      } finally {
        const next = waiting.shift();
        if (next) next();
        else free += 1;
      }
    },
  };
}
