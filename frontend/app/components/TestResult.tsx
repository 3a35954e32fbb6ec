"use client";
// A connection Test's answer: reachable or not, the server, and each preflight check (the connections page and
// the pipeline wizard's preflight show the same thing).
import { List, Stack, Text } from "@mantine/core";

import DocLink from "@/app/components/DocLink";
import type { ConnectionTestResult } from "@/lib/api/endpoints";
import { versionLabel } from "@/lib/databases";

export default function TestResult({ result, databaseType, testId = "test-result" }:
  { result: ConnectionTestResult; databaseType: string; testId?: string }) {
  return (
    <Stack gap={2} data-testid={testId}>
      <Text size="sm" c={result.ok ? "green" : "red"} fw={600}>
        {result.ok ? "OK" : "Failed"}{result.server_version ? ` · ${versionLabel(databaseType, result.server_version)}` : ""}
        {` · ${result.latency_ms} ms`}
      </Text>
      {result.error && <Text size="sm" c="red">{result.error}</Text>}
      <DocLink doc="preflight" label="About these checks" />
      <List size="xs">
        {result.checks.map((c) => (
          <List.Item key={c.name} c={c.warning ? "orange" : undefined} data-warning={c.warning || undefined}
            data-check={c.name} data-ok={c.ok}>
            {c.ok ? (c.warning ? "⚠" : "✓") : "✗"} {c.name}: {c.detail}
          </List.Item>
        ))}
      </List>
    </Stack>
  );
}
