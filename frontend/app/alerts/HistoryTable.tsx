"use client";
import { Anchor, Badge, Table, Text, Tooltip } from "@mantine/core";
import Link from "next/link";

import type { AlertEvent } from "@/lib/api/endpoints";

const DELIVERY_COLORS: Record<string, string> = { delivered: "green", pending: "blue", failed: "red" };

export default function HistoryTable({ items }: { items: AlertEvent[] }) {
  if (!items.length) return <Text c="dimmed" size="sm">No alerts yet.</Text>;
  return (
    <Table withTableBorder striped data-testid="alert-history">
      <Table.Thead><Table.Tr><Table.Th>Fired</Table.Th><Table.Th>State</Table.Th><Table.Th>Rule</Table.Th>
        <Table.Th>Pipeline</Table.Th><Table.Th>Message</Table.Th><Table.Th>Notifications</Table.Th></Table.Tr></Table.Thead>
      <Table.Tbody>
        {items.map((e) => (
          <Table.Tr key={e.id} data-testid={`alert-${e.id}`}>
            <Table.Td>{new Date(e.fired_at).toLocaleString()}</Table.Td>
            <Table.Td>
              <Badge color={e.state === "firing" ? "red" : "green"}>{e.state}</Badge>
              {e.resolved_at && <Text size="xs" c="dimmed">{new Date(e.resolved_at).toLocaleString()}</Text>}
            </Table.Td>
            <Table.Td>{e.rule_name}</Table.Td>
            <Table.Td>{e.pipeline_id
              ? <Anchor component={Link} href={`/pipelines/${e.pipeline_id}`}>{e.pipeline_name}</Anchor> : "–"}</Table.Td>
            <Table.Td><Text size="sm">{e.message}</Text>
              {e.resolution && <Text size="xs" c="dimmed">{e.resolution}</Text>}</Table.Td>
            <Table.Td>
              {e.deliveries.map((d) => (
                <Tooltip key={d.id} label={d.last_error ?? `${d.attempts} attempt(s)`}>
                  <Badge variant="light" mr={4} color={DELIVERY_COLORS[d.status] ?? "gray"}>
                    {d.notification} → {d.channel_name}: {d.status}
                  </Badge>
                </Tooltip>
              ))}
            </Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}
