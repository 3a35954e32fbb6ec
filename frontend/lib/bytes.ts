// Byte counts for people: binary units (the backend's WAL thresholds are in MiB/GiB), one decimal above KiB.

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB"];

export function formatBytes(value: number | null | undefined): string {
  if (value == null || !Number.isFinite(value)) return "–";
  let size = Math.max(0, value);
  let unit = 0;
  while (size >= 1024 && unit < UNITS.length - 1) {
    size /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${size} B` : `${size.toFixed(1)} ${UNITS[unit]}`;
}

/** How worried to look at retained WAL: at or above the pipeline's thresholds. */
export function walLevel(retained: number | null | undefined, warning: number, critical: number): "ok" | "warning" | "critical" {
  if (retained == null) return "ok";
  if (retained >= critical) return "critical";
  return retained >= warning ? "warning" : "ok";
}
