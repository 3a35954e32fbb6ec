import { describe, expect, it } from "vitest";

import { describeCondition, describeScope, formatBytes, fromApiThreshold, toApiThreshold } from "@/lib/alerts";

describe("alert thresholds", () => {
  it("takes WAL in MB and sends bytes", () => {
    expect(toApiThreshold("retained_wal_bytes", 1.5)).toBe(1572864);
    expect(fromApiThreshold("retained_wal_bytes", 1572864)).toBe(1.5);
  });
  it("keeps minutes and seconds as they are", () => {
    expect(toApiThreshold("lag_seconds", 30)).toBe(30);
    expect(toApiThreshold("degraded", 5)).toBe(5);
  });
  it("sends no threshold for kinds without one", () => {
    expect(toApiThreshold("pipeline_error", 5)).toBeNull();
    expect(toApiThreshold("lag_seconds", null)).toBeNull();
    expect(toApiThreshold("lag_seconds", Number.NaN)).toBeNull();
  });
});

describe("rule descriptions", () => {
  it.each([
    [{ kind: "retained_wal_bytes" as const, threshold: 1073741824 }, "Retained WAL above 1.0 GB"],
    [{ kind: "lag_seconds" as const, threshold: 30 }, "Lag above 30 seconds"],
    [{ kind: "pipeline_error" as const, threshold: null }, "Pipeline in ERROR"],
  ])("%o -> %s", (rule, text) => expect(describeCondition(rule)).toBe(text));
  it("names the scope", () => {
    expect(describeScope({ kind: "lag_seconds", pipeline_id: null, pipeline_name: null })).toBe("Every pipeline");
    expect(describeScope({ kind: "event_logger_down", pipeline_id: null, pipeline_name: null })).toBe("Installation");
    expect(describeScope({ kind: "degraded", pipeline_id: "1234567890", pipeline_name: "shop" })).toBe("shop");
  });
  it("formats bytes", () => {
    expect(formatBytes(512)).toBe("512 bytes");
    expect(formatBytes(5 * 1024 * 1024)).toBe("5.0 MB");
  });
});

describe("who edits an alert channel or rule", () => {
  it("follows the API's can_edit or access level when present, the role otherwise", async () => {
    const { mayEditAlert, mayTestChannel } = await import("@/lib/alerts");
    expect(mayEditAlert({ can_edit: false }, "admin")).toBe(false);
    expect(mayEditAlert({ can_edit: true }, "viewer")).toBe(true);
    expect(mayEditAlert({ access: "operate" }, "operator")).toBe(false);
    expect(mayEditAlert({ access: "manage" }, "operator")).toBe(true);
    expect(mayTestChannel({ access: "operate" }, "operator")).toBe(true);
    expect(mayTestChannel({ access: "view" }, "operator")).toBe(false);
    expect(mayEditAlert({}, "operator")).toBe(true);
    expect(mayEditAlert({}, "viewer")).toBe(false);
  });
});
