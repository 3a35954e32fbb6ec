// Alert rule kinds as people read them, and the threshold units the form uses (MB for WAL, the API takes bytes).
import type { AlertRule, AlertRuleKind } from "@/lib/api/endpoints";

export type KindInfo = { value: AlertRuleKind; label: string; unit: string | null; scale: number; globalOnly?: boolean };

const MB = 1024 * 1024;

export const RULE_KINDS: KindInfo[] = [
  { value: "pipeline_error", label: "Pipeline in ERROR", unit: null, scale: 1 },
  { value: "degraded", label: "Degraded for N minutes", unit: "minutes", scale: 1 },
  { value: "lag_seconds", label: "Lag above N seconds", unit: "seconds", scale: 1 },
  { value: "retained_wal_bytes", label: "Retained WAL above N MB", unit: "MB", scale: MB },
  { value: "event_logger_down", label: "Event logger down", unit: null, scale: 1, globalOnly: true },
  { value: "no_events", label: "No events for N minutes (on a pipeline that usually has them)", unit: "minutes",
    scale: 1 },
];

export function kindInfo(kind: AlertRuleKind): KindInfo {
  return RULE_KINDS.find((k) => k.value === kind) ?? RULE_KINDS[0];
}

/** The form's number (in the kind's display unit) as the API's threshold; null for kinds without one. */
export function toApiThreshold(kind: AlertRuleKind, value: number | null | undefined): number | null {
  const info = kindInfo(kind);
  if (!info.unit || value == null || Number.isNaN(value)) return null;
  return Math.round(value * info.scale * 1000) / 1000;
}

export function fromApiThreshold(kind: AlertRuleKind, threshold: number | null | undefined): number | null {
  if (threshold == null) return null;
  return threshold / kindInfo(kind).scale;
}

export function formatBytes(n: number): string {
  const units = ["bytes", "kB", "MB", "GB", "TB"];
  let value = n;
  let i = 0;
  while (Math.abs(value) >= 1024 && i < units.length - 1) { value /= 1024; i += 1; }
  return i === 0 ? `${value} bytes` : `${value.toFixed(1)} ${units[i]}`;
}

/** "Retained WAL above 1.0 GB", "Pipeline in ERROR", "Lag above 30 seconds". */
export function describeCondition(rule: Pick<AlertRule, "kind" | "threshold">): string {
  const t = rule.threshold;
  switch (rule.kind) {
    case "degraded": return `Degraded for ${t} minutes`;
    case "lag_seconds": return `Lag above ${t} seconds`;
    case "retained_wal_bytes": return `Retained WAL above ${formatBytes(t ?? 0)}`;
    case "no_events": return `No events for ${t} minutes`;
    case "event_logger_down": return "Event logger down";
    default: return "Pipeline in ERROR";
  }
}

export function describeScope(rule: Pick<AlertRule, "kind" | "pipeline_id" | "pipeline_name">): string {
  if (rule.kind === "event_logger_down") return "Installation";
  if (!rule.pipeline_id) return "Every pipeline";
  return rule.pipeline_name ?? `${rule.pipeline_id.slice(0, 8)} (deleted)`;
}

/** What a channel or rule may say about the caller's rights on it, in whichever form the API sends: `can_edit`, or an
 * access level like pipelines' (`access`). The owner/grant model for alerts is being added to the API; until an item
 * carries one of these, the role decides (admins and operators edit), as the API does today. */
export type AlertAccess = { can_edit?: boolean | null; access?: string | null };

export function mayEditAlert(item: object, role: string | undefined): boolean {
  const { can_edit: canEdit, access } = item as AlertAccess;
  if (typeof canEdit === "boolean") return canEdit;
  if (typeof access === "string") return access === "manage";
  return role === "admin" || role === "operator";
}

/** Sending a test notification needs less than editing: operate on the channel, where the API says so. */
export function mayTestChannel(item: object, role: string | undefined): boolean {
  const { can_edit: canEdit, access } = item as AlertAccess;
  if (typeof access === "string") return access === "operate" || access === "manage";
  if (typeof canEdit === "boolean") return canEdit;
  return role === "admin" || role === "operator";
}
