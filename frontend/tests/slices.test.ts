import { describe, expect, it } from "vitest";

import type { CdcEvent } from "@/lib/api/endpoints";
import monitoring, { eventsReceived, eventsReplaced } from "@/lib/store/slices/monitoringSlice";
import pipelines, { fetchPipelineDetail, pipelineRemoved, pipelineUpdated } from "@/lib/store/slices/pipelineSlice";

const ev = (id: number, event_type = "insert"): CdcEvent => ({
  id, pipeline_id: "p", event_type, table_name: "public.t", source_lsn: null, latency_ms: 5, kafka_topic: "t",
  kafka_partition: 0, kafka_offset: id, created_at: new Date(0).toISOString(), op: "c",
});
const initial = monitoring(undefined, { type: "init" });

describe("monitoringSlice", () => {
  it("prepends received events newest first", () => {
    let s = monitoring(initial, eventsReceived([ev(1), ev(2)]));
    s = monitoring(s, eventsReceived([ev(3)]));
    expect(s.events.map((e) => e.id)).toEqual([3, 2, 1]);
  });

  it("de-duplicates by id", () => {
    let s = monitoring(initial, eventsReceived([ev(1), ev(2)]));
    s = monitoring(s, eventsReceived([ev(2), ev(2), ev(3)]));
    expect(s.events.map((e) => e.id)).toEqual([3, 2, 1]);
  });

  it("caps the list in memory, dropping the oldest", () => {
    const s = monitoring(initial, eventsReceived(Array.from({ length: 50 }, (_, i) => ev(i + 1)), 10));
    expect(s.events).toHaveLength(10);
    expect(s.events[0].id).toBe(50);
    expect(s.events[9].id).toBe(41);
  });

  it("replaces on a new page instead of appending", () => {
    let s = monitoring(initial, eventsReceived([ev(1), ev(2)]));
    s = monitoring(s, eventsReplaced([ev(7)]));
    expect(s.events.map((e) => e.id)).toEqual([7]);
  });
});

describe("pipelineSlice", () => {
  const p = (id: string, status = "NOT_STARTED") => ({ id, status, name: id }) as never;
  it("updates in place or adds, and removes", () => {
    let s = pipelines(undefined, pipelineUpdated(p("a")));
    s = pipelines(s, pipelineUpdated(p("b")));
    s = pipelines(s, pipelineUpdated(p("a", "RUNNING")));
    expect(s.items.map((x) => [x.id, x.status])).toEqual([["b", "NOT_STARTED"], ["a", "RUNNING"]]);
    s = pipelines(s, pipelineRemoved("b"));
    expect(s.items.map((x) => x.id)).toEqual(["a"]);
  });

  it("renders the pipeline from a detail answer whose status or progress failed, keeping the last ones", () => {
    const detail = (payload: object) => ({ type: fetchPipelineDetail.fulfilled.type, payload });
    let s = pipelines(undefined, detail({ pipeline: p("a"), status: { status: "RUNNING" }, progress: { tables: [] } }));
    s = pipelines(s, detail({ pipeline: p("a", "RUNNING"), status: undefined, progress: undefined }));
    expect(s.items.map((x) => [x.id, x.status])).toEqual([["a", "RUNNING"]]);
    expect(s.status.a).toEqual({ status: "RUNNING" });
    expect(s.progress.a).toEqual({ tables: [] });
  });
});
