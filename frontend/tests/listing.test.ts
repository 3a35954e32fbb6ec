import { describe, expect, it } from "vitest";

import { listed, paged } from "@/lib/listing";

const rows = [{ name: "b", status: "RUNNING", updated_at: "2026-01-02" }, { name: "A", status: "STOPPED",
  updated_at: "2026-01-03" }, { name: "c", status: "RUNNING", updated_at: "2026-01-01" }];

describe("lists", () => {
  it("filter by status and sort by a column either way", () => {
    expect(listed(rows, null, "name", false).map((r) => r.name)).toEqual(["A", "b", "c"]);
    expect(listed(rows, "RUNNING", "updated", true).map((r) => r.name)).toEqual(["b", "c"]);
  });
  it("cut into pages, keeping the page in range", () => {
    const many = Array.from({ length: 45 }, (_, i) => i);
    expect(paged(many, 3, 20)).toEqual({ rows: [40, 41, 42, 43, 44], pages: 3, page: 3 });
    expect(paged(many, 9, 20).page).toBe(3);
    expect(paged([], 1, 20)).toEqual({ rows: [], pages: 1, page: 1 });
  });
});
