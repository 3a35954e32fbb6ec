// Time for people (pure, unit-tested): durations in the largest sensible unit, relative times for live values,
// and continuous time series (a minute without events is a zero on the axis, not a minute that vanished).

export function formatDuration(seconds: number | null | undefined): string {
  if (seconds == null || !Number.isFinite(seconds)) return "–";
  const s = Math.max(0, seconds);
  if (s < 1) return `${Math.round(s * 1000)} ms`;
  if (s < 60) return `${s < 10 ? s.toFixed(1).replace(/\.0$/, "") : Math.round(s)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
}

export function relativeTime(when: Date | string | number, now: number = Date.now()): string {
  const seconds = Math.round((now - new Date(when).getTime()) / 1000);
  if (seconds < 0) return "just now";
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
  return `${Math.floor(seconds / 86400)} d ago`;
}

/** Local time with the zone name, e.g. "27/11/2026, 21:03:04 CET"; for a title attribute, the UTC form. */
export function dateTime(when: Date | string | number): { local: string; utc: string } {
  const d = new Date(when);
  return { local: d.toLocaleString(undefined, { timeZoneName: "short" }),
    utc: d.toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC") };
}

type Point = { t: string; [k: string]: unknown };

/** Every bucket from `hours` ago to now, each with the given point's values or zeros. */
export function continuous<P extends Point>(points: P[], bucketMs: number, hours: number, zero: Omit<P, "t">,
                                            now: number = Date.now()): P[] {
  const byTime = new Map(points.map((p) => [Math.floor(new Date(p.t).getTime() / bucketMs) * bucketMs, p]));
  const last = Math.floor(now / bucketMs) * bucketMs;
  const first = last - Math.round((hours * 3600_000) / bucketMs) * bucketMs + bucketMs;
  const out: P[] = [];
  for (let t = first; t <= last; t += bucketMs) {
    out.push(byTime.get(t) ?? ({ ...zero, t: new Date(t).toISOString() } as P));
  }
  return out;
}
