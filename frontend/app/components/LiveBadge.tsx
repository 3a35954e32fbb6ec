"use client";
import { ActionIcon, Badge, Group, Text, Tooltip } from "@mantine/core";

import type { LiveMode } from "@/lib/hooks/useLive";

/** Says whether the page is live or polling, when it last loaded, and offers a manual refresh. */
export default function LiveBadge({ mode, lastLoaded, onRefresh }: { mode: LiveMode; lastLoaded: Date | null;
  onRefresh: () => void }) {
  return (
    <Group gap="xs">
      <Badge data-testid="live-mode" color={mode === "live" ? "green" : "yellow"} variant="light">
        {mode === "live" ? "live" : "polling"}
      </Badge>
      {lastLoaded && <Text size="xs" c="dimmed">updated {lastLoaded.toLocaleTimeString()}</Text>}
      <Tooltip label="Refresh now">
        <ActionIcon variant="default" size="sm" aria-label="refresh" data-testid="refresh" onClick={onRefresh}>↻</ActionIcon>
      </Tooltip>
    </Group>
  );
}
