"use client";
// Events for one pipeline (or all): pushed over the socket when live, fetched newer-than-newest when polling.
// Live events reach the store through a batcher: one dispatch per 250 ms however fast they arrive.
import { useCallback, useEffect, useMemo, useRef } from "react";

import { monitoringApi, type CdcEvent, type EventFilters } from "@/lib/api/endpoints";
import { usePolling, useSocketMode } from "@/lib/hooks/useLive";
import { createLiveBatcher } from "@/lib/live/batcher";
import { useAppDispatch, useAppSelector } from "@/lib/store/hooks";
import { eventsReceived, eventsReplaced, summaryReceived } from "@/lib/store/slices/monitoringSlice";
import { inWindow } from "@/lib/timeRange";
import { listen, subscribePipeline } from "@/lib/websocket/client";

export const LIVE_FLUSH_MS = 250;
const LIVE_KEEP = 5000;

/** `initial`: how many recent events to load first (pages of 1,000), e.g. 100,000 for a long history. */
export function useEventStream(filters: EventFilters, subscribeTo: string[], extraLoad?: () => Promise<unknown>,
                               initial = 500) {
  const dispatch = useAppDispatch();
  const mode = useSocketMode();
  const events = useAppSelector((s) => s.monitoring.events);
  const paused = useAppSelector((s) => s.monitoring.paused);
  const key = JSON.stringify(filters);
  const matches = useCallback((e: { pipeline_id: string; table_name: string | null; event_type: string;
                                     created_at?: string | null }) =>
    (!filters.pipeline_id || e.pipeline_id === filters.pipeline_id) &&
    (!filters.table || e.table_name === filters.table) && (!filters.event_type || e.event_type === filters.event_type)
    && inWindow(e.created_at, filters),
  // eslint-disable-next-line react-hooks/exhaustive-deps
  [key]);
  const batcher = useRef<ReturnType<typeof createLiveBatcher<CdcEvent>> | null>(null);
  const pausedRef = useRef(paused);
  pausedRef.current = paused;
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
    const live = createLiveBatcher<CdcEvent>((batch) => {
      // Memory stays bounded while streaming: the live list keeps what was loaded first, or 5,000 if more.
      if (batch.items.length) dispatch(eventsReceived(batch.items, Math.max(initial, LIVE_KEEP)));
      if (batch.suppressed) dispatch(summaryReceived(batch.suppressed, batch.byEventType));
    }, LIVE_FLUSH_MS);
    live.setPaused(pausedRef.current);
    batcher.current = live;
    const leave = subscribeTo.map((id) => subscribePipeline(id));
    const stop = listen({
      onEvents: (incoming) => live.push(incoming.filter(matches)),
      onSummary: (s) => live.summary(s),
    });
    return () => { stop(); leave.forEach((l) => l()); live.dispose(); batcher.current = null; };
  }, [dispatch, matches, initial, subscribeTo.join(",")]); // eslint-disable-line react-hooks/exhaustive-deps
  const load = async () => {
    if (!pausedRef.current) {
      const page = await monitoringApi.events({ ...filters, limit: 500 });
      dispatch(eventsReceived(page.items));
    }
    if (extraLoad) await extraLoad();
  };
  const { refresh, lastLoaded } = usePolling(load, mode);
  // Paused: the list holds still; on resume the newest events are fetched once (what streamed by meanwhile).
  const wasPaused = useRef(paused);
  useEffect(() => {
    batcher.current?.setPaused(paused);
    if (wasPaused.current && !paused) void refresh();
    wasPaused.current = paused;
  }, [paused, refresh]);
  const shown = useMemo(() => events.filter(matches), [events, matches]);
  return { events: shown, mode, refresh, lastLoaded, paused };
}
