import { describe, expect, it } from "vitest";

import { formatBytes, walLevel } from "@/lib/bytes";

describe("formatBytes", () => {
  it("uses binary units with one decimal", () => {
    expect(formatBytes(0)).toBe("0 B");
    expect(formatBytes(1023)).toBe("1023 B");
    expect(formatBytes(1024)).toBe("1.0 KiB");
    expect(formatBytes(5 * 1024 ** 2 + 512 * 1024)).toBe("5.5 MiB");
    expect(formatBytes(1024 ** 3)).toBe("1.0 GiB");
    expect(formatBytes(3 * 1024 ** 5)).toBe("3072.0 TiB");
  });
  it("shows a dash when the figure is unknown", () => {
    expect(formatBytes(null)).toBe("–");
    expect(formatBytes(undefined)).toBe("–");
  });
});

describe("walLevel", () => {
  it("compares retained WAL with the pipeline's thresholds", () => {
    expect(walLevel(10, 100, 1000)).toBe("ok");
    expect(walLevel(100, 100, 1000)).toBe("warning");
    expect(walLevel(1000, 100, 1000)).toBe("critical");
    expect(walLevel(null, 100, 1000)).toBe("ok");
  });
});
