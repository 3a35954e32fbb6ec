"use client";
// A connector's badge from its state, its tasks' states and the pipeline's (lib/connectors.ts), and a failed task
// explained: the cause in one line, what to do, the full trace folded away with a copy button.
import { Badge, Code, Group, Stack, Text } from "@mantine/core";
import { useState } from "react";

import CopyButton from "@/app/components/CopyButton";
import type { components } from "@/lib/api/schema";
import { connectorBadge } from "@/lib/connectors";
import { explainFailure } from "@/lib/failures";

export default function ConnectorStateBadge({ pipelineStatus, connector, testId }: { pipelineStatus: string;
  connector: components["schemas"]["ConnectorView"] | null | undefined; testId?: string }) {
  const badge = connectorBadge(pipelineStatus, connector);
  return <Badge color={badge.color} variant={badge.tone === "idle" ? "outline" : "filled"} data-testid={testId}
    data-tone={badge.tone} style={{ maxWidth: "none" }}>{badge.label}</Badge>;
}

export function FailureExplained({ trace }: { trace: string }) {
  const [open, setOpen] = useState(false);
  const { cause, todo } = explainFailure(trace);
  return (
    <Stack gap={4} my={4} data-testid="failure-explained">
      <Text size="sm" c="red" fw={600} data-testid="failure-cause">{cause}</Text>
      <Text size="sm" data-testid="failure-todo">What to do: {todo}</Text>
      {trace && (
        <Group gap="xs">
          <Text size="xs" c="blue" style={{ cursor: "pointer" }} onClick={() => setOpen(!open)}>
            {open ? "Hide" : "Show"} the full trace</Text>
          <CopyButton value={trace} label="trace" />
        </Group>
      )}
      {open && <Code block mah={220} style={{ overflow: "auto" }}>{trace}</Code>}
    </Stack>
  );
}
