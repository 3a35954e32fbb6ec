import { describe, expect, it } from "vitest";

import { normalizeEventType } from "@/lib/opcodes";

describe("normalizeEventType (the seed's fallback mapping)", () => {
  it.each([
    ["insert", "insert"], ["i", "insert"], ["c", "insert"], ["create", "insert"], ["r", "insert"], [" C ", "insert"],
    ["update", "update"], ["u", "update"], ["U", "update"],
    ["delete", "delete"], ["d", "delete"], ["remove", "delete"],
    ["t", "truncate"], ["", "other"], [null, "other"], ["x", "other"],
  ])("%s -> %s", (input, expected) => {
    expect(normalizeEventType(input)).toBe(expected);
  });
});
