// The web app's Content-Security-Policy: scripts by nonce only, the runtime API origin (and its WebSocket form) in
// connect-src, nothing may frame the app.
import { describe, expect, it } from "vitest";

import { contentSecurityPolicy, newNonce } from "@/lib/csp";

const directives = (csp: string) =>
  Object.fromEntries(csp.split("; ").map((d) => [d.split(" ")[0], d.split(" ").slice(1)]));

describe("contentSecurityPolicy", () => {
  it("allows scripts only from this origin and by nonce, and connections only to the API", () => {
    const d = directives(contentSecurityPolicy({ apiUrl: "http://127.0.0.1:8551", wsUrl: "http://127.0.0.1:8551" },
      "abc123"));
    expect(d["default-src"]).toEqual(["'self'"]);
    expect(d["script-src"]).toEqual(["'self'", "'nonce-abc123'"]);
    expect(d["connect-src"]).toEqual(["'self'", "http://127.0.0.1:8551", "ws://127.0.0.1:8551"]);
    expect(d["frame-ancestors"]).toEqual(["'none'"]);
    expect(d["object-src"]).toEqual(["'none'"]);
    expect(d["base-uri"]).toEqual(["'none'"]);
  });

  it("uses wss for an https API and lists a separate socket host, without paths", () => {
    const d = directives(contentSecurityPolicy({ apiUrl: "https://api.example.com/base",
      wsUrl: "https://ws.example.com:8443" }, "n"));
    expect(d["connect-src"]).toEqual(["'self'", "https://api.example.com", "wss://api.example.com",
      "https://ws.example.com:8443", "wss://ws.example.com:8443"]);
  });

  it("ignores a malformed or non-http API address instead of widening the policy", () => {
    const d = directives(contentSecurityPolicy({ apiUrl: "not a url", wsUrl: "javascript:alert(1)" }, "n"));
    expect(d["connect-src"]).toEqual(["'self'"]);
  });

  it("adds 'unsafe-eval' in development only", () => {
    const config = { apiUrl: "http://127.0.0.1:8000", wsUrl: "http://127.0.0.1:8000" };
    expect(directives(contentSecurityPolicy(config, "n", true))["script-src"]).toContain("'unsafe-eval'");
    expect(contentSecurityPolicy(config, "n")).not.toContain("unsafe-eval");
    expect(directives(contentSecurityPolicy(config, "n"))["script-src"]).not.toContain("'unsafe-inline'");
  });
});

describe("newNonce", () => {
  it("is 128 random bits in base64, different every time", () => {
    const nonces = new Set(Array.from({ length: 100 }, newNonce));
    expect(nonces.size).toBe(100);
    for (const n of nonces) expect(n).toMatch(/^[A-Za-z0-9+/]{22}==$/);
  });
});
