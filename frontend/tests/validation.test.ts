import { describe, expect, it } from "vitest";

import { nameError, passwordError, portError, usernameError } from "@/lib/validation";

describe("form validation", () => {
  it("explains bad names in words", () => {
    expect(nameError("shop-orders 1")).toBeNull();
    expect(nameError("")).toBe("Name is required");
    expect(nameError("-x")).toMatch(/start with a letter or a digit/);
    expect(nameError("a/b!", "Pipeline name")).toBe("Pipeline name may contain only letters, digits, spaces and _ . - (not / !)");
    expect(nameError("a".repeat(101))).toMatch(/at most 100/);
  });
  it("refuses ports outside 1..65535 instead of clamping", () => {
    expect(portError(5432)).toBeNull();
    expect(portError(99999)).toBe("Port must be between 1 and 65535 (not 99999)");
    expect(portError(0)).toMatch(/between 1 and 65535/);
    expect(portError("")).toBe("Port must be a whole number");
  });
  it("counts password characters", () => {
    expect(passwordError("short")).toBe("Password must be at least 8 characters (5 now)");
    expect(passwordError("", false)).toBeNull();
    expect(passwordError("long-enough")).toBeNull();
    expect(usernameError("bad name")).toMatch(/letters, digits/);
  });
});
