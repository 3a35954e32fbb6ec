"use client";
// Where a change spends its time, stage by stage, over the pipeline's latest events (p50/p99 as observed; a stage
// with nothing observed says "unknown" and why, rather than showing a made-up figure).
import { Card, Group, Table, Text, Title } from "@mantine/core";
import { useEffect, useState } from "react";

import { monitoringApi, type PipelineLatency } from "@/lib/api/endpoints";
import { useInterval } from "@/lib/hooks/useLive";

const ms = (v: number | null | undefined) => (v == null ? "unknown" : `${Math.round(v).toLocaleString()} ms`);

export default function LatencyPanel({ pipelineId }: { pipelineId: string }) {
  const [latency, setLatency] = useState<PipelineLatency | null>(null);
  const [failed, setFailed] = useState(false);
  const load = async () => {
    try {
      setLatency(await monitoringApi.latency(pipelineId));
      setFailed(false);
    } catch {
      setFailed(true);
    }
  };
  useEffect(() => { void load(); }, [pipelineId]); // eslint-disable-line react-hooks/exhaustive-deps
  // Each read goes back to Kafka and the target: every 10 s is plenty for a trend.
  useInterval(() => void load(), 10_000);
  return (
    <Card withBorder data-testid="latency-panel">
      <Group justify="space-between" mb="xs">
        <Title order={4}>Latency by stage</Title>
        <Text size="xs" c="dimmed">
          {latency ? `latest ${latency.sample_events} events (≤ ${latency.window_seconds / 60} min)` : ""}
        </Text>
      </Group>
      {failed && !latency && <Text size="sm" c="dimmed">Latency is not available right now.</Text>}
      {latency && (
        <Table fz="sm" data-testid="latency-stages">
          <Table.Thead><Table.Tr><Table.Th>Stage</Table.Th><Table.Th>p50</Table.Th><Table.Th>p99</Table.Th>
            <Table.Th>Events</Table.Th></Table.Tr></Table.Thead>
          <Table.Tbody>{latency.stages.map((s) => (
            <Table.Tr key={s.stage} data-testid={`latency-${s.stage}`}>
              <Table.Td title={s.note ?? undefined}>{s.label}</Table.Td>
              <Table.Td>{ms(s.p50_ms)}</Table.Td><Table.Td>{ms(s.p99_ms)}</Table.Td>
              <Table.Td>{s.count > 0 ? s.count : <Text size="xs" c="dimmed" span>{s.note ?? "none"}</Text>}</Table.Td>
            </Table.Tr>
          ))}</Table.Tbody>
        </Table>
      )}
    </Card>
  );
}
