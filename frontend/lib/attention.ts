// What on the home page needs someone (pure): pipelines in error or unhealthy, failed tables, WAL piling up.
import type { Pipeline } from "@/lib/api/endpoints";
import { walLevel } from "@/lib/bytes";

export type Attention = { pipeline: Pipeline; reason: string };

export function needsAttention(pipelines: Pipeline[]): Attention[] {
  const found: Attention[] = [];
  for (const p of pipelines) {
    const failed = p.tables.filter((t) => t.state === "FAILED").map((t) => `${t.schema}.${t.table}`);
    const wal = p.retained_wal_bytes != null ? walLevel(p.retained_wal_bytes, p.wal_warning_bytes, p.wal_critical_bytes)
      : "ok";
    if (p.status === "ERROR") found.push({ pipeline: p, reason: "in error" });
    else if (p.health && p.health !== "ok" && ["RUNNING", "PAUSED"].includes(p.status)) {
      found.push({ pipeline: p, reason: `health ${p.health}` });
    }
    if (failed.length) found.push({ pipeline: p, reason: `failed table${failed.length > 1 ? "s" : ""}: ${failed.join(", ")}` });
    if (wal !== "ok") found.push({ pipeline: p, reason: `the source holds ${wal === "critical" ? "critically " : ""}much WAL for it` });
  }
  return found;
}
