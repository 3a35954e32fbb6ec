// What the pipeline page says and offers for a pipeline in trouble (pure: from the status response).
import type { PipelineStatusView } from "@/lib/api/endpoints";

export const ACTION_LABELS: Record<string, string> = {
  restart_failed: "Restart failed tasks",
  review_schema: "Review the schema change",
  resume: "Resume",
  reset: "Reset…",
  resync: "Resync a table",
  add_table: "Add a table",
  remove_table: "Remove a table",
  start: "Start",
  stop: "Stop",
  pause: "Pause",
};

export const POLICY_LABELS: Record<string, string> = {
  propagate: "Propagate: add columns, widen types, keep dropped columns; pause on anything else",
  pause: "Pause on any schema change until reviewed",
  ignore: "Ignore: keep the target's columns, do not copy new ones",
};

/** One sentence on what to do next, or null when nothing is wrong. */
export function recoveryHint(status: Pick<PipelineStatusView, "status" | "available_actions" | "schema_pending">):
  string | null {
  const actions = status.available_actions ?? [];
  if (status.status === "PAUSED" && (status.schema_pending ?? []).length) {
    const needsDdl = (status.schema_pending ?? []).some((c) => c.outcome === "block" && (c.ddl as string[] ?? []).length
      && c.kind !== "add_column" && c.kind !== "drop_column");
    return needsDdl
      ? "A schema change needs you: run the statement shown on the target (or remove the table), then resume."
      : "A schema change is held for review: resume to apply it to the target as shown.";
  }
  if (status.status === "ERROR") {
    return actions.includes("restart_failed")
      ? "Fix the cause shown in the trace, then restart the failed tasks. A reset reloads everything from scratch."
      : "Start the pipeline again, or reset it to reload everything from scratch.";
  }
  if (status.status === "PAUSED") return "Paused: resume to continue from where it stopped (nothing is lost).";
  return null;
}
