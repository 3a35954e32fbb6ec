import { Badge } from "@mantine/core";

const COLORS: Record<string, string> = {
  RUNNING: "green", STARTING: "blue", STOPPING: "orange", PAUSED: "yellow", STOPPED: "gray", NOT_STARTED: "gray",
  ERROR: "red", COMPLETED: "green", FAILED: "red", PENDING: "gray", COPYING: "blue",
};

export default function StatusBadge({ value, testId }: { value: string; testId?: string }) {
  // Never truncated ("RUNN…"): a badge keeps its width and the table around it scrolls instead.
  return <Badge color={COLORS[value] ?? "gray"} data-testid={testId}
    style={{ maxWidth: "none", flexShrink: 0, overflow: "visible" }}>{value}</Badge>;
}
