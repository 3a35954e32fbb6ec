import { describe, expect, it } from "vitest";

import { formatLsn } from "@/lib/lsn";

describe("formatLsn", () => {
  it("shows Debezium's number as PostgreSQL's pg_lsn text", () => {
    expect(formatLsn(0x1_461376e8)).toBe("1/461376E8");
    expect(formatLsn(String(0x1_461376e8))).toBe("1/461376E8");
    expect(formatLsn(23)).toBe("0/17");
  });
  it("normalizes pg_lsn text and leaves other positions alone", () => {
    expect(formatLsn("1/461376e8")).toBe("1/461376E8");
    expect(formatLsn("0/00ABC")).toBe("0/ABC");
    expect(formatLsn("mysql-bin.000003:154")).toBe("mysql-bin.000003:154");
    expect(formatLsn(null)).toBe("–");
  });
});
