import { describe, expect, it } from "vitest";

import { diffRows, show } from "@/lib/diff";

describe("diffRows", () => {
  it("marks the columns an update changed", () => {
    const d = diffRows({ id: 1, email: "a", tags: [1] }, { id: 1, email: "b", tags: [1] });
    expect(d.filter((c) => c.changed).map((c) => c.column)).toEqual(["email"]);
    expect(d.find((c) => c.column === "email")).toEqual({ column: "email", before: "a", after: "b", changed: true });
  });
  it("marks nothing changed on an insert or a delete", () => {
    expect(diffRows(null, { id: 1 }).some((c) => c.changed)).toBe(false);
    expect(diffRows({ id: 1 }, null).map((c) => c.before)).toEqual([1]);
    expect(show(null)).toBe("null");
    expect(show({ a: 1 })).toBe('{"a":1}');
  });
});
