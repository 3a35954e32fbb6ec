// The API client against a small local HTTP server: the session renewed from the refresh cookie (once, one at a
// time), retry rules, error mapping, and nothing ever written to web storage.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";

import { createApiClient } from "@/lib/api/client";
import { ApiError, toApiError } from "@/lib/api/errors";
import { tokenStore } from "@/lib/api/tokens";

// A fake localStorage only to prove the client never writes to it.
const storage = new Map<string, string>();
(globalThis as { window?: unknown }).window = {
  localStorage: { getItem: (k: string) => storage.get(k) ?? null, setItem: (k: string, v: string) => storage.set(k, v),
    removeItem: (k: string) => storage.delete(k) },
};

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;
let handler: Handler = () => undefined;
const calls: string[] = [];
let server: Server;
let base = "";

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      const transport = req.headers["x-token-transport"] ? `[${req.headers["x-token-transport"]}]` : "";
      calls.push([req.method, req.url, req.headers.authorization, transport].filter(Boolean).join(" "));
      handler(req, res, body);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));
beforeEach(() => {
  calls.length = 0;
  storage.clear();
  tokenStore.set("old");
});
afterEach(() => {
  expect([...storage.keys()]).toEqual([]);
});

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { "Content-Type": "application/json" });
  res.end(JSON.stringify(body));
};
const client = () => createApiClient({ baseURL: base, backoffMs: 1, sleep: async () => undefined });
const unauthorized = (res: ServerResponse) =>
  json(res, 401, { error: { code: "unauthorized", message: "expired", details: {} } });

describe("api client", () => {
  it("refreshes once on 401 from the cookie (no token in the body), then retries with the new token", async () => {
    handler = (req, res, body) => {
      if (req.url === "/api/v1/auth/refresh") {
        expect(body).toBe("");
        return json(res, 200, { access_token: "new", token_type: "bearer", expires_in: 900 });
      }
      if (req.headers.authorization === "Bearer new") return json(res, 200, { ok: true });
      return unauthorized(res);
    };
    const { data } = await client().get("/pipelines");
    expect(data).toEqual({ ok: true });
    expect(calls).toEqual(["GET /api/v1/pipelines Bearer old", "POST /api/v1/auth/refresh [cookie]",
      "GET /api/v1/pipelines Bearer new"]);
    expect(tokenStore.get()).toBe("new");
  });

  it("does not loop when the refresh fails: one attempt, then an unauthorized error and no token", async () => {
    let expired = 0;
    handler = (req, res) => unauthorized(res);
    const error = await createApiClient({ baseURL: base, onSessionExpired: () => expired++ }).get("/pipelines")
      .catch((e) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error.kind).toBe("unauthorized");
    expect(calls.filter((c) => c.includes("/auth/refresh"))).toHaveLength(1);
    expect(tokenStore.get()).toBeNull();
    expect(expired).toBe(1);
  });

  it("after a page load (no token in memory) gets one first instead of collecting a 401", async () => {
    tokenStore.set(null);
    handler = (req, res) => (req.url === "/api/v1/auth/refresh" ? json(res, 200, { access_token: "fresh" })
      : req.headers.authorization === "Bearer fresh" ? json(res, 200, { url: req.url }) : unauthorized(res));
    const api = client();
    const results = await Promise.all([api.get("/pipelines"), api.get("/connections"), api.refreshSession(),
      api.get("/monitoring/dashboard")]);
    expect(results[2]).toBe("fresh");
    // The refresh token rotates: a second refresh with the same cookie would look like theft and end the session.
    expect(calls.filter((c) => c.includes("/auth/refresh"))).toEqual(["POST /api/v1/auth/refresh [cookie]"]);
    expect(calls.filter((c) => !c.includes("/auth/refresh")).every((c) => c.endsWith("Bearer fresh"))).toBe(true);
  });

  it("with no session at all, a page load gets one refresh refused and sends nothing that would 401", async () => {
    tokenStore.set(null);
    let expired = 0;
    handler = (req, res) => unauthorized(res);
    const error = await createApiClient({ baseURL: base, onSessionExpired: () => expired++ }).get("/pipelines")
      .catch((e) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error.kind).toBe("unauthorized");
    expect(calls).toEqual(["POST /api/v1/auth/refresh [cookie]"]);
    expect(expired).toBe(1);
  });

  it("asks for the cookie transport on login and logout and never refreshes around them", async () => {
    handler = (req, res) => unauthorized(res);
    const api = client();
    expect((await api.post("/auth/login", { username: "a", password: "b" }).catch((e) => e)).kind)
      .toBe("unauthorized");
    await api.post("/auth/logout").catch(() => undefined);
    // No bearer either: these calls are about the cookie, and a stale access token is no business of theirs.
    expect(calls).toEqual(["POST /api/v1/auth/login [cookie]", "POST /api/v1/auth/logout [cookie]"]);
  });

  it("retries idempotent requests on 5xx with backoff, up to the limit", async () => {
    let n = 0;
    handler = (req, res) => (++n < 3 ? json(res, 503, {}) : json(res, 200, { n }));
    const { data } = await client().get("/things");
    expect(data).toEqual({ n: 3 });
  });

  it("never retries a POST on 5xx", async () => {
    handler = (req, res) => json(res, 500, { error: { code: "internal_error", message: "boom", details: {} } });
    const error = await client().post("/pipelines", {}).catch((e) => e);
    expect(error.kind).toBe("server");
    expect(calls).toHaveLength(1);
  });

  it("gives up after the retry limit", async () => {
    handler = (req, res) => json(res, 502, {});
    const error = await client().get("/things").catch((e) => e);
    expect(error.kind).toBe("server");
    expect(calls).toHaveLength(3);
  });

  it("maps network errors", async () => {
    const offline = createApiClient({ baseURL: "http://127.0.0.1:9/api/v1", maxRetries: 0 });
    const error = await offline.get("/x").catch((e) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error.kind).toBe("network");
  });
});

describe("toApiError", () => {
  it("reads the backend's error shape and lists validation fields", () => {
    const e = toApiError(422, { error: { code: "validation_error", message: "The request is invalid",
      details: { fields: [{ loc: ["body", "port"], message: "too big" }] } } });
    expect(e.kind).toBe("validation");
    expect(e.message).toBe("The request is invalid: port too big");
    expect(toApiError(409, { error: { code: "conflict", message: "running", details: {} } }).kind).toBe("conflict");
    expect(toApiError(429, null).kind).toBe("rate_limited");
    expect(toApiError(null, null).kind).toBe("network");
  });
});
