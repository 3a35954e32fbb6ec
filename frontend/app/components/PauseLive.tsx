"use client";
import { Button } from "@mantine/core";

import { useAppDispatch, useAppSelector } from "@/lib/store/hooks";
import { livePaused } from "@/lib/store/slices/monitoringSlice";

/** "Pause live": the event lists hold still (to read or inspect at high rates); counters and charts go on. */
export default function PauseLive() {
  const dispatch = useAppDispatch();
  const paused = useAppSelector((s) => s.monitoring.paused);
  return (
    <Button size="compact-sm" variant={paused ? "filled" : "default"} color={paused ? "yellow" : undefined}
      aria-pressed={paused} data-testid="pause-live" onClick={() => dispatch(livePaused(!paused))}>
      {paused ? "Resume live" : "Pause live"}
    </Button>
  );
}
