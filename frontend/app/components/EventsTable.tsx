"use client";
// A virtualized event list: only the visible rows are in the DOM, so 100,000 events scroll smoothly.
import { Badge, Box, Text } from "@mantine/core";
import { useVirtualizer } from "@tanstack/react-virtual";
import { memo, useRef } from "react";

import type { CdcEvent } from "@/lib/api/endpoints";
import { normalizeEventType } from "@/lib/opcodes";
import { dateTime } from "@/lib/time";

const COLORS = { insert: "green", update: "blue", delete: "red", truncate: "orange", other: "gray" } as const;
const ROW = 30;
// minmax(0, …): text columns may shrink below their content (and then ellipsize) instead of overlapping others.
const GRID = "84px 64px minmax(0, 1.2fr) minmax(0, 1fr) 84px 72px";
// With a Pipeline column (lists that mix pipelines: the same table name can come from two of them).
const GRID_WITH_PIPELINE = "84px 64px minmax(0, 1fr) minmax(0, 1.2fr) minmax(0, 1fr) 84px 72px";
const CELL = { overflow: "hidden", textOverflow: "ellipsis", whiteSpace: "nowrap" } as const;

/** `onSelect`: a click (or Enter) on a row opens that event, e.g. in the EventInspector drawer. `pipelineNames`
 * (pipeline id -> name): show a Pipeline column. */
function EventsTable({ events, height = 420, onSelect, pipelineNames }: { events: CdcEvent[]; height?: number;
  onSelect?: (e: CdcEvent) => void; pipelineNames?: Record<string, string> }) {
  const grid = pipelineNames ? GRID_WITH_PIPELINE : GRID;
  const parent = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({ count: events.length, getScrollElement: () => parent.current,
    estimateSize: () => ROW, overscan: 20 });
  return (
    <Box data-testid="events-table" style={{ border: "1px solid var(--mantine-color-default-border)", borderRadius: 4 }}>
      <Box style={{ display: "grid", gridTemplateColumns: grid, fontWeight: 600, fontSize: 13, padding: "6px 8px",
        background: "var(--mantine-color-default-hover)" }}>
        <span>Event</span><span>Id</span>{pipelineNames && <span>Pipeline</span>}<span>Table</span><span>Key</span><span>Time</span><span>Latency</span>
      </Box>
      <div ref={parent} style={{ height, overflow: "auto" }}>
        <div style={{ height: virtualizer.getTotalSize(), position: "relative" }}>
          {virtualizer.getVirtualItems().map((row) => {
            const e = events[row.index];
            const kind = normalizeEventType(e.event_type ?? e.op);
            return (
              <div key={e.id} data-testid="event-row" data-event-type={kind} data-event-id={e.id}
                role={onSelect ? "button" : undefined} tabIndex={onSelect ? 0 : undefined}
                onClick={onSelect ? () => onSelect(e) : undefined}
                onKeyDown={onSelect ? (k) => { if (k.key === "Enter") onSelect(e); } : undefined}
                style={{ cursor: onSelect ? "pointer" : undefined, position: "absolute", top: 0, left: 0, right: 0, height: ROW,
                  transform: `translateY(${row.start}px)`, display: "grid", gridTemplateColumns: grid,
                  alignItems: "center", padding: "0 8px", fontSize: 13, borderBottom: "1px solid var(--mantine-color-default-border)" }}>
                <span><Badge size="sm" color={COLORS[kind]} style={{ maxWidth: "none" }}>{kind}</Badge></span>
                <Text size="xs" c="dimmed">{e.id}</Text>
                {pipelineNames && <span style={CELL} data-testid="event-pipeline"
                  title={pipelineNames[e.pipeline_id] ?? e.pipeline_id}>{pipelineNames[e.pipeline_id] ?? e.pipeline_id.slice(0, 8)}</span>}
                <span style={CELL} title={e.table_name ?? undefined}>{e.table_name}</span>
                <Text size="xs" truncate>{e.primary_key ? JSON.stringify(e.primary_key) : ""}</Text>
                <Text size="xs" style={CELL} title={dateTime(e.created_at).utc}>
                  {new Date(e.created_at).toLocaleTimeString()}</Text>
                <Text size="xs" style={CELL}>{e.latency_ms ?? "–"} ms</Text>
              </div>
            );
          })}
        </div>
      </div>
      {!events.length && <Text c="dimmed" size="sm" p="sm">No events yet.</Text>}
    </Box>
  );
}

// The pages re-render for many reasons while events stream; the list only when its events (or props) change.
export default memo(EventsTable);
