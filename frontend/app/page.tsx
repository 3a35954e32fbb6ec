import { apiBaseUrl, fetchReadiness } from "@/lib/api/health";

// Health is read on every request, never cached at build time.
export const dynamic = "force-dynamic";

const COLORS = { ready: "#0f9d58", not_ready: "#f4b400", unreachable: "#db4437" } as const;

export default async function HealthPage() {
  const baseUrl = apiBaseUrl();
  const readiness = await fetchReadiness(baseUrl);
  return (
    <main>
      <h1>cdcflow</h1>
      <p>
        Backend <code>{baseUrl}</code>:{" "}
        <strong data-testid="backend-status" style={{ color: COLORS[readiness.status] }}>
          {readiness.status}
        </strong>
        {readiness.latencyMs !== null && <span> ({readiness.latencyMs} ms)</span>}
      </p>
      {readiness.error && <p role="alert">{readiness.error}</p>}
      <ul>
        {Object.entries(readiness.checks).map(([name, state]) => (
          <li key={name} data-testid={`check-${name}`}>
            {name}: {state}
          </li>
        ))}
      </ul>
    </main>
  );
}
