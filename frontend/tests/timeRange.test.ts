import { describe, expect, it } from "vitest";

import { inWindow, toLocalInput, windowFrom } from "@/lib/timeRange";

const params = (q: string) => new URLSearchParams(q);
const NOW = Date.parse("2026-11-27T12:00:00Z");

describe("time range from the URL", () => {
  it("reads a relative range as a start time before now", () => {
    expect(windowFrom(params("range=1h"), NOW)).toEqual({ since: "2026-11-27T11:00:00.000Z" });
    expect(windowFrom(params("range=7d"), NOW)).toEqual({ since: "2026-11-20T12:00:00.000Z" });
  });
  it("reads a fixed window, swapping reversed bounds and ignoring unreadable ones", () => {
    expect(windowFrom(params("since=2026-11-01T00:00:00Z&until=2026-11-02T00:00:00Z"), NOW))
      .toEqual({ since: "2026-11-01T00:00:00.000Z", until: "2026-11-02T00:00:00.000Z" });
    expect(windowFrom(params("since=2026-11-02T00:00:00Z&until=2026-11-01T00:00:00Z"), NOW))
      .toEqual({ since: "2026-11-01T00:00:00.000Z", until: "2026-11-02T00:00:00.000Z" });
    expect(windowFrom(params("since=yesterday&range=5y"), NOW)).toEqual({});
  });
  it("keeps an event inside the window only", () => {
    const w = { since: "2026-11-01T00:00:00.000Z", until: "2026-11-02T00:00:00.000Z" };
    expect(inWindow("2026-11-01T12:00:00Z", w)).toBe(true);
    expect(inWindow("2026-11-03T00:00:00Z", w)).toBe(false);
    expect(inWindow("2026-10-31T23:59:59Z", w)).toBe(false);
    expect(inWindow(null, w)).toBe(false);
    expect(inWindow(null, {})).toBe(true);
  });
  it("formats a time for a datetime-local input", () => {
    expect(toLocalInput(undefined)).toBe("");
    expect(toLocalInput("2026-11-27T12:34:56Z")).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/);
  });
});
