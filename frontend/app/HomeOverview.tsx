"use client";
// The product's home: every pipeline the user may see with its state and health at a glance, and what needs
// attention first. Nothing to show before login (the readiness line below stays for anyone).
import { Alert, Anchor, Badge, Button, Card, Group, List, SimpleGrid, Stack, Table, Text, Title } from "@mantine/core";
import Link from "next/link";
import { useEffect } from "react";

import StatusBadge from "@/app/components/StatusBadge";
import { HealthBadge } from "@/app/pipelines/[id]/HealthPanel";
import { needsAttention } from "@/lib/attention";
import { healthLabel } from "@/lib/connectors";
import { useInterval } from "@/lib/hooks/useLive";
import { useAppDispatch, useAppSelector } from "@/lib/store/hooks";
import { fetchPipelines } from "@/lib/store/slices/pipelineSlice";

export default function HomeOverview() {
  const dispatch = useAppDispatch();
  const user = useAppSelector((s) => s.auth.user);
  const { items, loaded } = useAppSelector((s) => s.pipelines);
  useEffect(() => { if (user) void dispatch(fetchPipelines()); }, [dispatch, user]);
  useInterval(() => { if (user) void dispatch(fetchPipelines()); }, 10_000);
  if (!user) return <Anchor component={Link} href="/login">Log in to see your pipelines</Anchor>;
  const attention = needsAttention(items);
  const count = (status: string) => items.filter((p) => p.status === status).length;
  return (
    <Stack data-testid="home">
      <SimpleGrid cols={{ base: 2, md: 4 }}>
        {[["Pipelines", items.length], ["Running", count("RUNNING")], ["In error", count("ERROR")],
          ["Need attention", new Set(attention.map((a) => a.pipeline.id)).size]].map(([label, value]) => (
          <Card withBorder key={label} data-testid={`home-stat-${String(label).toLowerCase().replace(/ /g, "-")}`}>
            <Text size="xs" c="dimmed">{label}</Text><Text fw={700} size="xl">{value}</Text>
          </Card>))}
      </SimpleGrid>
      {attention.length > 0 ? (
        <Alert color="orange" title="Needs attention" data-testid="home-attention">
          <List size="sm">{attention.map((a, i) => (
            <List.Item key={`${a.pipeline.id}-${i}`}>
              <Anchor component={Link} href={`/pipelines/${a.pipeline.id}`}>{a.pipeline.name}</Anchor>: {a.reason}
            </List.Item>))}</List>
        </Alert>
      ) : loaded && items.length > 0 && <Text size="sm" c="green" data-testid="home-all-well">Nothing needs attention.</Text>}
      <Group justify="space-between"><Title order={4}>Pipelines</Title>
        {user.role !== "viewer" && <Button component={Link} href="/pipelines/new" size="xs">New pipeline</Button>}</Group>
      {loaded && !items.length ? <Text c="dimmed">No pipelines yet.</Text> : (
        <Table withTableBorder data-testid="home-pipelines">
          <Table.Tbody>{items.map((p) => (
            <Table.Tr key={p.id}>
              <Table.Td><Anchor component={Link} href={`/pipelines/${p.id}`}>{p.name}</Anchor></Table.Td>
              <Table.Td><StatusBadge value={p.status} /></Table.Td>
              <Table.Td><HealthBadge value={healthLabel(p.status, p.health)} /></Table.Td>
              <Table.Td><Badge variant="outline" tt="none">{p.tables.length} table{p.tables.length === 1 ? "" : "s"}</Badge></Table.Td>
            </Table.Tr>))}
          </Table.Tbody>
        </Table>
      )}
    </Stack>
  );
}
