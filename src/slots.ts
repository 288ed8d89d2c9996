/**
 * At most `size` tasks run at once in this process; the rest wait their turn, in order. Used where
 * a process bounds its own fan-out (downloads per worker, signals per API process).
 */
export interface Slots {
  /**
   * Runs `task` once a slot is free. An abort while it waits gives up its turn at once (rejecting
   * with the signal's reason): a contents copy that was cancelled, or has started files for as
   * long as it may, must not wait for other mappings' downloads before it can end.
   */
  run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T>;
}

export function createSlots(size: number): Slots {
  let free = size;
  const waiting: (() => void)[] = [];
  const turn = (signal: AbortSignal | undefined) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason as Error);
      const onAbort = () => {
        waiting.splice(waiting.indexOf(granted), 1);
        reject(signal?.reason as Error);
      };
      const granted = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      waiting.push(granted);
    });
  return {
    async run(task, signal) {
      if (free > 0) free -= 1;
      else await turn(signal);
      try {
        return await task();
      } finally {
        const next = waiting.shift();
        if (next) next();
        else free += 1;
      }
    },
  };
}
