import { describe, expect, it } from "vitest";
import { apiBaseUrl, fetchReadiness, parseReadiness } from "@/lib/api/health";

describe("parseReadiness", () => {
  it("reads a ready backend", () => {
    const r = parseReadiness(200, { status: "ready", checks: { database: "ok" }, latency_ms: 1.5 });
    expect(r).toEqual({ status: "ready", checks: { database: "ok" }, latencyMs: 1.5 });
  });

  it("reads a 503 as not ready, keeping the checks", () => {
    const r = parseReadiness(503, { status: "not_ready", checks: { database: "unavailable" }, latency_ms: 2 });
    expect(r.status).toBe("not_ready");
    expect(r.checks.database).toBe("unavailable");
  });

  it("treats anything else as unreachable", () => {
    expect(parseReadiness(502, "<html>").status).toBe("unreachable");
    expect(parseReadiness(200, { hello: 1 }).status).toBe("unreachable");
  });
});

describe("apiBaseUrl", () => {
  it("prefers the server-side URL, then the public one, and trims slashes", () => {
    expect(apiBaseUrl({ CDCFLOW_API_URL: "http://a:1/", NEXT_PUBLIC_API_URL: "http://b:2" })).toBe("http://a:1");
    expect(apiBaseUrl({ NEXT_PUBLIC_API_URL: "http://b:2//" })).toBe("http://b:2");
    expect(apiBaseUrl({})).toBe("http://127.0.0.1:8000");
  });
});

describe("fetchReadiness", () => {
  it("reports a closed port as unreachable instead of throwing", async () => {
    const r = await fetchReadiness("http://127.0.0.1:9", 2000);
    expect(r.status).toBe("unreachable");
    expect(r.error).toBeTruthy();
  });
});
