// Pipeline modes as people read them (the API's enum values never reach the page text).
import type { PipelineMode } from "@/lib/api/endpoints";

export const MODE_LABELS: Record<PipelineMode, string> = {
  full_load_and_cdc: "Full load, then stream changes (CDC)",
  full_load_only: "Full load only",
  cdc_only: "Stream changes only (CDC)",
};

export function modeLabel(mode: string): string {
  return MODE_LABELS[mode as PipelineMode] ?? mode;
}

/** An error message's first line for the page, and the rest (a Java or Python trace) for a "details" fold. */
export function splitTrace(message: string): { summary: string; details: string | null } {
  const lines = message.split("\n");
  const rest = lines.slice(1).join("\n").trim();
  return { summary: lines[0], details: rest || null };
}
