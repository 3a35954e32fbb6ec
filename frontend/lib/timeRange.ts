// The events' time range, as the URL holds it (pure, unit-tested): a relative range ("range=1h": the last hour,
// still live) or a fixed window ("since=…&until=…", ISO times: a past incident, nothing live appended).

export const RANGES: { value: string; label: string; seconds: number }[] = [
  { value: "15m", label: "Last 15 minutes", seconds: 900 },
  { value: "1h", label: "Last hour", seconds: 3600 },
  { value: "24h", label: "Last 24 hours", seconds: 86400 },
  { value: "7d", label: "Last 7 days", seconds: 604800 },
];

export type TimeWindow = { since?: string; until?: string };

function iso(raw: string | null): string | undefined {
  if (!raw) return undefined;
  const t = new Date(raw);
  return Number.isNaN(t.getTime()) ? undefined : t.toISOString();
}

/** The window the URL asks for; an unknown range or an unreadable time is ignored rather than guessed. */
export function windowFrom(params: { get(name: string): string | null }, now: number = Date.now()): TimeWindow {
  const range = RANGES.find((r) => r.value === params.get("range"));
  if (range) return { since: new Date(now - range.seconds * 1000).toISOString() };
  const since = iso(params.get("since"));
  const until = iso(params.get("until"));
  if (since && until && since > until) return { since: until, until: since };
  return { ...(since ? { since } : {}), ...(until ? { until } : {}) };
}

export function inWindow(createdAt: string | null | undefined, w: TimeWindow): boolean {
  if (!w.since && !w.until) return true;
  if (!createdAt) return false;
  const t = new Date(createdAt).toISOString();
  return (!w.since || t >= w.since) && (!w.until || t <= w.until);
}

/** For a datetime-local input: the ISO time in the browser's zone, to the minute. */
export function toLocalInput(isoTime: string | undefined): string {
  if (!isoTime) return "";
  const d = new Date(isoTime);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
