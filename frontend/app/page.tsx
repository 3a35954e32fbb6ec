import { Stack, Text, Title } from "@mantine/core";

import HomeOverview from "@/app/HomeOverview";
import { apiBaseUrl, fetchReadiness } from "@/lib/api/health";

const COLORS = { ready: "#0f9d58", not_ready: "#f4b400", unreachable: "#db4437" } as const;

export default async function HomePage() {
  const baseUrl = apiBaseUrl();
  const readiness = await fetchReadiness(baseUrl);
  return (
    <Stack>
      <Title order={2}>cdcflow</Title>
      <HomeOverview />
      <Text size="sm" c="dimmed">
        Backend <code>{baseUrl}</code>:{" "}
        <strong data-testid="backend-status" style={{ color: COLORS[readiness.status] }}>{readiness.status}</strong>
        {readiness.latencyMs !== null && <span> ({readiness.latencyMs} ms)</span>}
      </Text>
      {readiness.error && <Text role="alert">{readiness.error}</Text>}
      {/* What the readiness is made of, observed for this page (the database, Kafka, Connect, ...). */}
      <Text size="xs" c="dimmed" component="ul" data-testid="backend-checks">
        {Object.entries(readiness.checks).map(([name, state]) => (
          <li key={name} data-testid={`check-${name}`}>{name}: {state}</li>
        ))}
      </Text>
    </Stack>
  );
}
