import { describe, expect, it } from "vitest";

import { createLiveBatcher, type Flush } from "@/lib/live/batcher";

/** A manual clock: timers run only when the test advances time. */
function manualClock() {
  let now = 0;
  let next = 1;
  const pending = new Map<number, { at: number; fn: () => void }>();
  return {
    scheduler: {
      set: (fn: () => void, ms: number) => { const id = next++; pending.set(id, { at: now + ms, fn }); return id; },
      clear: (id: unknown) => { pending.delete(id as number); },
    },
    advance(ms: number) {
      now += ms;
      for (const [id, t] of [...pending.entries()].sort((a, b) => a[1].at - b[1].at)) {
        if (t.at <= now) { pending.delete(id); t.fn(); }
      }
    },
    pending: () => pending.size,
  };
}

describe("live batcher", () => {
  it("coalesces a burst into one flush per interval, in arrival order", () => {
    const clock = manualClock();
    const flushes: Flush<number>[] = [];
    const b = createLiveBatcher<number>((f) => flushes.push(f), 250, 5000, clock.scheduler);
    for (let i = 0; i < 300; i++) b.push([i]);   // 300 messages in one interval
    expect(flushes).toHaveLength(0);
    expect(clock.pending()).toBe(1);             // one timer, however many messages
    clock.advance(249);
    expect(flushes).toHaveLength(0);
    clock.advance(1);
    expect(flushes).toHaveLength(1);
    expect(flushes[0].items).toEqual(Array.from({ length: 300 }, (_, i) => i));
    b.push([300, 301]);
    clock.advance(250);
    expect(flushes.map((f) => f.items.length)).toEqual([300, 2]);
    clock.advance(1000);                         // nothing new: no empty flushes
    expect(flushes).toHaveLength(2);
  });

  it("keeps only the newest maxItems of an interval", () => {
    const clock = manualClock();
    const flushes: Flush<number>[] = [];
    const b = createLiveBatcher<number>((f) => flushes.push(f), 250, 100, clock.scheduler);
    b.push(Array.from({ length: 80 }, (_, i) => i));
    b.push(Array.from({ length: 80 }, (_, i) => 80 + i));
    clock.advance(250);
    expect(flushes[0].items).toHaveLength(100);
    expect(flushes[0].items[0]).toBe(60);
    expect(flushes[0].items[99]).toBe(159);
  });

  it("adds up the rate cap's summaries, by type, into the same flush", () => {
    const clock = manualClock();
    const flushes: Flush<number>[] = [];
    const b = createLiveBatcher<number>((f) => flushes.push(f), 250, 5000, clock.scheduler);
    b.summary({ pipeline_id: "a", suppressed: 10, by_event_type: { insert: 7, update: 3 } });
    b.summary({ pipeline_id: "b", suppressed: 5, by_event_type: { insert: 1, delete: 4 } });
    b.push([1]);
    clock.advance(250);
    expect(flushes).toEqual([{ items: [1], suppressed: 15, byEventType: { insert: 8, update: 3, delete: 4 } }]);
  });

  it("drops events while paused, counts them, and streams again when resumed", () => {
    const clock = manualClock();
    const flushes: Flush<number>[] = [];
    const b = createLiveBatcher<number>((f) => flushes.push(f), 250, 5000, clock.scheduler);
    b.push([1, 2]);
    b.setPaused(true);                           // what was waiting is not shown either
    b.push([3, 4, 5]);
    clock.advance(250);
    expect(flushes).toHaveLength(0);
    expect(b.droppedWhilePaused()).toBe(3);
    b.setPaused(false);
    b.push([6]);
    clock.advance(250);
    expect(flushes.map((f) => f.items)).toEqual([[6]]);
  });

  it("flushNow delivers at once, and nothing arrives after dispose", () => {
    const clock = manualClock();
    const flushes: Flush<number>[] = [];
    const b = createLiveBatcher<number>((f) => flushes.push(f), 250, 5000, clock.scheduler);
    b.push([1]);
    b.flushNow();
    expect(flushes).toHaveLength(1);
    expect(clock.pending()).toBe(0);
    b.push([2]);
    b.dispose();
    clock.advance(1000);
    b.push([3]);
    expect(flushes).toHaveLength(1);
  });
});
