import { describe, expect, it } from "vitest";

import { continuous, dateTime, formatDuration, relativeTime } from "@/lib/time";

describe("time helpers", () => {
  it("formats durations in sensible units", () => {
    expect(formatDuration(0.25)).toBe("250 ms");
    expect(formatDuration(3)).toBe("3 s");
    expect(formatDuration(125)).toBe("2 min 5 s");
    expect(formatDuration(7200)).toBe("2 h 0 min");
    expect(formatDuration(null)).toBe("–");
  });
  it("says how long ago", () => {
    expect(relativeTime(new Date(1_000_000 - 3000), 1_000_000)).toBe("3 s ago");
    expect(relativeTime(new Date(1_000_000 - 120_000), 1_000_000)).toBe("2 min ago");
  });
  it("gives UTC on hover", () => {
    expect(dateTime("2026-11-27T20:03:04.123Z").utc).toBe("2026-11-27 20:03:04 UTC");
  });
  it("keeps empty minutes on the axis", () => {
    const now = Date.parse("2026-11-27T20:10:30Z");
    const points = [{ t: "2026-11-27T20:05:00Z", insert: 4 }, { t: "2026-11-27T20:09:00Z", insert: 1 }];
    const filled = continuous(points, 60_000, 1 / 6, { insert: 0 }, now);
    expect(filled.map((p) => new Date(p.t).toISOString().slice(11, 16)))
      .toEqual(["20:01", "20:02", "20:03", "20:04", "20:05", "20:06", "20:07", "20:08", "20:09", "20:10"]);
    expect(filled.map((p) => p.insert)).toEqual([0, 0, 0, 0, 4, 0, 0, 0, 1, 0]);
  });
});
