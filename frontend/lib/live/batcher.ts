// Live events arrive in bursts (one Socket.IO message per stored batch and room, many rooms): the store gets them
// at most once per interval, so a busy stream costs one Redux dispatch and one render per 250 ms, not one per event.
// Pure (the clock is injected), so the coalescing and the pause are unit-tested.

export type Summary = { pipeline_id: string; suppressed: number; by_event_type: Record<string, number> };

export type Flush<T> = { items: T[]; suppressed: number; byEventType: Record<string, number> };

type Scheduler = { set: (fn: () => void, ms: number) => unknown; clear: (handle: unknown) => void };

const timers: Scheduler = {
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export type LiveBatcher<T> = {
  push: (items: T[]) => void;
  summary: (s: Summary) => void;
  /** While paused, events are dropped (the page reloads the newest when resumed); summaries still count. */
  setPaused: (paused: boolean) => void;
  /** Events dropped since the pause began. */
  droppedWhilePaused: () => number;
  flushNow: () => void;
  dispose: () => void;
};

/**
 * `maxItems`: a flush carries at most this many (the newest) events; older ones of the same interval are counted
 * as dropped. The list in the store is capped anyway, and a tab that was in the background must not build an
 * unbounded queue.
 */
export function createLiveBatcher<T>(onFlush: (batch: Flush<T>) => void, intervalMs = 250, maxItems = 5000,
  scheduler: Scheduler = timers): LiveBatcher<T> {
  let items: T[] = [];
  let suppressed = 0;
  let byEventType: Record<string, number> = {};
  let handle: unknown = null;
  let paused = false;
  let dropped = 0;
  let disposed = false;

  const flushNow = () => {
    if (handle !== null) scheduler.clear(handle);
    handle = null;
    if (!items.length && !suppressed) return;
    const batch = { items, suppressed, byEventType };
    items = [];
    suppressed = 0;
    byEventType = {};
    onFlush(batch);
  };
  const schedule = () => {
    if (handle === null && !disposed) handle = scheduler.set(flushNow, intervalMs);
  };
  return {
    push(incoming) {
      if (disposed || !incoming.length) return;
      if (paused) { dropped += incoming.length; return; }
      items = items.length ? items.concat(incoming) : incoming.slice();
      if (items.length > maxItems) items = items.slice(items.length - maxItems);
      schedule();
    },
    summary(s) {
      if (disposed) return;
      suppressed += s.suppressed;
      for (const [type, n] of Object.entries(s.by_event_type ?? {})) byEventType[type] = (byEventType[type] ?? 0) + n;
      schedule();
    },
    setPaused(next) {
      if (next === paused) return;
      paused = next;
      if (paused) { items = []; dropped = 0; }
    },
    droppedWhilePaused: () => dropped,
    flushNow,
    dispose() {
      disposed = true;
      if (handle !== null) scheduler.clear(handle);
      handle = null;
      items = [];
    },
  };
}
