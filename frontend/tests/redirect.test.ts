// safeNextPath: the login page's ?next= may only lead to a path of this app.
import { describe, expect, it } from "vitest";

import { DEFAULT_AFTER_LOGIN, safeNextPath } from "@/lib/redirect";

describe("safeNextPath", () => {
  it.each([
    ["/pipelines", "/pipelines"],
    ["/pipelines/6f1c0c5e-2d3b-4f7e-9a51-0c8a1b2c3d4e", "/pipelines/6f1c0c5e-2d3b-4f7e-9a51-0c8a1b2c3d4e"],
    ["/monitoring?preload=100000", "/monitoring?preload=100000"],
    ["/connections#new", "/connections#new"],
    ["/settings/users?q=a%20b", "/settings/users?q=a%20b"],
    ["/", "/"],
  ])("keeps the same-origin path %s", (next, expected) => {
    expect(safeNextPath(next)).toBe(expected);
  });

  it.each([
    null, undefined, "", "pipelines", " /pipelines",
    // Protocol-relative and backslash forms: browsers read them as another host.
    "//evil.example", "//evil.example/pipelines", "///evil.example", "/\\evil.example", "\\\\evil.example",
    "/\\/evil.example", "\\/evil.example", "/pipelines\\..\\..\\evil",
    // Absolute URLs and script.
    "https://evil.example", "http:evil.example", "HTTPS://evil.example/", "javascript:alert(1)",
    "JaVaScRiPt:alert(1)", "/javascript:alert(1)", "java\tscript:alert(1)", "data:text/html,<script>1</script>",
    // Control characters a browser strips ("/\t/evil" becomes "//evil").
    "/\t/evil.example", "/\n/evil.example", "/\r\n/evil.example", "/\u0000/evil.example", "/\u007f", "/\u0085x",
    // Encoded variants, once and twice.
    "%2F%2Fevil.example", "/%2F/evil.example", "/%2f%2fevil.example", "/%5Cevil.example", "/%5c%5cevil.example",
    "/%252F%252Fevil.example", "/%255Cevil.example", "/%09/evil.example", "/%0a/evil.example", "/%00",
    "/%6A%61%76%61%73%63%72%69%70%74:alert(1)",
    // Dot segments that normalise to a scheme-relative path (another port of this host carries the cookie).
    "/.//127.0.0.1:8000/api/v1/auth/x", "/./\\127.0.0.1:8000", "/a/..//evil.example", "/..//evil.example",
    "/%2E//evil.example", "/%2e%2e//evil.example", "/pipelines/../..//evil.example", "/./%2F/evil.example",
    // Malformed encoding, a login loop, and absurd lengths.
    "/%E0%A4%A", "/login", "/login?next=//evil.example", "/" + "a".repeat(5000),
  ])("refuses %j", (next) => {
    expect(safeNextPath(next)).toBe(DEFAULT_AFTER_LOGIN);
  });

  it("uses the caller's fallback", () => {
    expect(safeNextPath("//evil.example", "/monitoring")).toBe("/monitoring");
  });

  it("never yields anything that resolves to another origin", () => {
    const origin = "http://127.0.0.1:3000";
    for (const next of ["//evil.example", "/.//evil.example", "/a/..//evil.example", "/\\evil.example", "/%2F%2Fevil.example", "/\t/evil.example", "/ok"]) {
      expect(new URL(safeNextPath(next), origin).origin).toBe(origin);
    }
  });
});
