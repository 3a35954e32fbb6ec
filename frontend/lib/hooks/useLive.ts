"use client";
// Live updates when the socket is up, polling (every pollIntervalMs) when it is disabled or down.
import { useCallback, useEffect, useRef, useState } from "react";

import { appConfig } from "@/lib/config";
import { onSocketStatus } from "@/lib/websocket/client";

export type LiveMode = "live" | "polling";

export function useSocketMode(): LiveMode {
  const [connected, setConnected] = useState(false);
  useEffect(() => (appConfig().wsEnabled ? onSocketStatus(setConnected) : undefined), []);
  return appConfig().wsEnabled && connected ? "live" : "polling";
}

/** Calls `load` now, on every `refresh()`, and on an interval while polling (always, when `alwaysPoll`). */
export function usePolling(load: () => Promise<unknown> | void, mode: LiveMode, alwaysPollMs?: number) {
  const loadRef = useRef(load);
  loadRef.current = load;
  const [lastLoaded, setLastLoaded] = useState<Date | null>(null);
  const refresh = useCallback(async () => {
    try {
      await loadRef.current();
    } finally {
      setLastLoaded(new Date());
    }
  }, []);
  useEffect(() => { void refresh(); }, [refresh]);
  useEffect(() => {
    const every = mode === "polling" ? appConfig().pollIntervalMs : alwaysPollMs;
    if (!every) return;
    const timer = setInterval(() => void refresh(), every);
    return () => clearInterval(timer);
  }, [mode, alwaysPollMs, refresh]);
  return { refresh, lastLoaded };
}

/** Calls the latest `fn` every `everyMs` while mounted. */
export function useInterval(fn: () => void, everyMs: number) {
  const ref = useRef(fn);
  ref.current = fn;
  useEffect(() => {
    const timer = setInterval(() => ref.current(), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
}
