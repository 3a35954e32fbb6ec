import { createSlice, type PayloadAction } from "@reduxjs/toolkit";

import type { CdcEvent, Dashboard, EventLoggerStatus } from "@/lib/api/endpoints";

export const EVENT_CAP = 100_000;

type State = {
  events: CdcEvent[];            // newest first, unique by id, at most EVENT_CAP
  dashboard: Dashboard | null;
  logger: EventLoggerStatus | null;
  suppressed: number;           // events the server summarized instead of sending (rate cap)
  suppressedByType: Record<string, number>;
  paused: boolean;              // "Pause live": the lists stop moving (the counters go on)
};
const initialState: State = { events: [], dashboard: null, logger: null, suppressed: 0, suppressedByType: {},
  paused: false };

function merge(current: CdcEvent[], incoming: CdcEvent[], cap: number): CdcEvent[] {
  const newest = current.length ? current[0].id : -Infinity;
  const fresh = [...new Map(incoming.map((e) => [e.id, e])).values()].sort((a, b) => b.id - a.id);
  // The usual case, live events newer than everything held: prepend without touching the rest.
  if (fresh.length && fresh[fresh.length - 1].id > newest) return [...fresh, ...current].slice(0, cap);
  const seen = new Set(current.map((e) => e.id));
  const unseen = fresh.filter((e) => !seen.has(e.id));
  if (!unseen.length) return current;
  return [...unseen, ...current].sort((a, b) => b.id - a.id).slice(0, cap);
}

const monitoringSlice = createSlice({
  name: "monitoring",
  initialState,
  reducers: {
    /** A page from the API replaces the list (a filter changed, or a manual refresh). */
    eventsReplaced(s, a: PayloadAction<CdcEvent[]>) {
      s.events = merge([], a.payload, EVENT_CAP);
    },
    /** Live or polled events are prepended, de-duplicated by id, capped in memory. */
    eventsReceived: {
      reducer(s, a: PayloadAction<{ events: CdcEvent[]; cap: number }>) {
        s.events = merge(s.events, a.payload.events, a.payload.cap);
      },
      prepare(events: CdcEvent[], cap: number = EVENT_CAP) {
        return { payload: { events, cap } };
      },
    },
    dashboardLoaded(s, a: PayloadAction<Dashboard>) {
      s.dashboard = a.payload;
    },
    loggerLoaded(s, a: PayloadAction<EventLoggerStatus>) {
      s.logger = a.payload;
    },
    summaryReceived: {
      reducer(s, a: PayloadAction<{ suppressed: number; byEventType: Record<string, number> }>) {
        s.suppressed += a.payload.suppressed;
        for (const [type, n] of Object.entries(a.payload.byEventType)) {
          s.suppressedByType[type] = (s.suppressedByType[type] ?? 0) + n;
        }
      },
      prepare(suppressed: number, byEventType: Record<string, number> = {}) {
        return { payload: { suppressed, byEventType } };
      },
    },
    livePaused(s, a: PayloadAction<boolean>) {
      s.paused = a.payload;
    },
  },
});

export const { eventsReplaced, eventsReceived, dashboardLoaded, loggerLoaded, summaryReceived, livePaused } =
  monitoringSlice.actions;
export default monitoringSlice.reducer;
