// What one connector's badge says (pure, unit-tested): the connector's own state alone lies when a task failed
// under a RUNNING connector, when it was never created, or when it is paused because the pipeline was paused.
import type { components } from "@/lib/api/schema";

type Connector = components["schemas"]["ConnectorView"];
export type ConnectorBadge = { label: string; color: string; tone: "ok" | "idle" | "warning" | "error" };

const LIVE = ["RUNNING", "PAUSED", "STARTING"];

export function connectorBadge(pipelineStatus: string, connector: Connector | null | undefined): ConnectorBadge {
  const live = LIVE.includes(pipelineStatus);
  if (!connector?.exists) {
    return live ? { label: "MISSING", color: "red", tone: "error" }
      : { label: "not created", color: "gray", tone: "idle" };
  }
  const failedTasks = connector.tasks.filter((t) => t.state === "FAILED");
  if (connector.state === "FAILED") return { label: "FAILED", color: "red", tone: "error" };
  if (failedTasks.length) {
    return { label: `TASK${failedTasks.length > 1 ? "S" : ""} FAILED`, color: "red", tone: "error" };
  }
  const want = pipelineStatus === "PAUSED" ? "PAUSED" : "RUNNING";
  const states = [connector.state, ...connector.tasks.map((t) => t.state)];
  if (pipelineStatus === "PAUSED" && states.every((s) => s === "PAUSED")) {
    return { label: "PAUSED (as asked)", color: "gray", tone: "idle" };
  }
  if (!live) return { label: connector.state ?? "unknown", color: "gray", tone: "idle" };
  if (!connector.tasks.length) return { label: `${connector.state} · no tasks`, color: "yellow", tone: "warning" };
  if (states.every((s) => s === want)) return { label: want, color: "green", tone: "ok" };
  return { label: connector.state ?? "unknown", color: "yellow", tone: "warning" };
}

/** The health a pipeline list shows: a stopped pipeline has no running data plane to be "ok". */
export function healthLabel(pipelineStatus: string, health: string | null | undefined): string | null {
  if (!health) return null;
  if (!LIVE.includes(pipelineStatus) && pipelineStatus !== "ERROR" && health === "ok") return null;
  return health;
}
