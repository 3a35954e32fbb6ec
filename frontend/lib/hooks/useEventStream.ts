"use client";
// Events for one pipeline (or all): pushed over the socket when live, fetched newer-than-newest when polling.
import { useCallback, useEffect } from "react";

import { monitoringApi, type EventFilters } from "@/lib/api/endpoints";
import { usePolling, useSocketMode } from "@/lib/hooks/useLive";
import { useAppDispatch, useAppSelector } from "@/lib/store/hooks";
import { eventsReceived, eventsReplaced, summaryReceived } from "@/lib/store/slices/monitoringSlice";
import { inWindow } from "@/lib/timeRange";
import { listen, subscribePipeline } from "@/lib/websocket/client";

/** `initial`: how many recent events to load first (pages of 1,000), e.g. 100,000 for a long history. */
export function useEventStream(filters: EventFilters, subscribeTo: string[], extraLoad?: () => Promise<unknown>,
                               initial = 500) {
  const dispatch = useAppDispatch();
  const mode = useSocketMode();
  const events = useAppSelector((s) => s.monitoring.events);
  const key = JSON.stringify(filters);
  const matches = useCallback((e: { pipeline_id: string; table_name: string | null; event_type: string;
                                     created_at?: string | null }) =>
    (!filters.pipeline_id || e.pipeline_id === filters.pipeline_id) &&
    (!filters.table || e.table_name === filters.table) && (!filters.event_type || e.event_type === filters.event_type)
    && inWindow(e.created_at, filters),
  // eslint-disable-next-line react-hooks/exhaustive-deps
  [key]);
  useEffect(() => {
    let cancelled = false;
    (async () => {
      const loaded = [];
      let before: number | undefined;
      while (loaded.length < initial && !cancelled) {
        const page = await monitoringApi.events({ ...filters, limit: Math.min(1000, initial - loaded.length),
          before_id: before });
        loaded.push(...page.items);
        if (page.next_before_id == null) break;
        before = page.next_before_id;
      }
      if (!cancelled) dispatch(eventsReplaced(loaded));
    })().catch(() => undefined);
    return () => { cancelled = true; };
  // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [dispatch, key, initial]);
  useEffect(() => {
    const leave = subscribeTo.map((id) => subscribePipeline(id));
    const stop = listen({
      onEvent: (e) => { if (matches(e)) dispatch(eventsReceived([e])); },
      onSummary: (s) => dispatch(summaryReceived(s.suppressed)),
    });
    return () => { stop(); leave.forEach((l) => l()); };
  }, [dispatch, matches, subscribeTo.join(",")]); // eslint-disable-line react-hooks/exhaustive-deps
  const load = async () => {
    const page = await monitoringApi.events({ ...filters, limit: 500 });
    dispatch(eventsReceived(page.items));
    if (extraLoad) await extraLoad();
  };
  const { refresh, lastLoaded } = usePolling(load, mode);
  return { events: events.filter(matches), mode, refresh, lastLoaded };
}
