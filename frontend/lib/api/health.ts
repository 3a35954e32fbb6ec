// The backend's readiness, as the health page shows it.

export type Readiness = {
  status: "ready" | "not_ready" | "unreachable";
  checks: Record<string, string>;
  latencyMs: number | null;
  error?: string;
};

export function apiBaseUrl(env: Record<string, string | undefined> = process.env): string {
  return (env.CDCFLOW_API_URL ?? env.NEXT_PUBLIC_API_URL ?? "http://127.0.0.1:8000").replace(/\/+$/, "");
}

/** Turns a /readyz response (200 ready, 503 not ready) into a Readiness; anything else is "unreachable". */
export function parseReadiness(status: number, body: unknown): Readiness {
  if ((status === 200 || status === 503) && body && typeof body === "object" && "checks" in body) {
    const b = body as { status?: string; checks?: Record<string, string>; latency_ms?: number };
    return {
      status: status === 200 && b.status === "ready" ? "ready" : "not_ready",
      checks: b.checks ?? {},
      latencyMs: typeof b.latency_ms === "number" ? b.latency_ms : null,
    };
  }
  return { status: "unreachable", checks: {}, latencyMs: null, error: `unexpected response (HTTP ${status})` };
}

export async function fetchReadiness(baseUrl: string = apiBaseUrl(), timeoutMs = 3000): Promise<Readiness> {
  try {
    const res = await fetch(`${baseUrl}/readyz`, { cache: "no-store", signal: AbortSignal.timeout(timeoutMs) });
    let body: unknown = null;
    try {
      body = await res.json();
    } catch {
      body = null;
    }
    return parseReadiness(res.status, body);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    return { status: "unreachable", checks: {}, latencyMs: null, error: reason };
  }
}
