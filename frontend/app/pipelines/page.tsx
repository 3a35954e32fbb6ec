"use client";
import { Anchor, Button, Group, Stack, Table, Text, TextInput, Title } from "@mantine/core";
import Link from "next/link";
import { useEffect, useState } from "react";

import ErrorText from "@/app/components/ErrorText";
import { TableSkeleton } from "@/app/components/Skeleton";
import LiveBadge from "@/app/components/LiveBadge";
import StatusBadge from "@/app/components/StatusBadge";
import { HealthBadge } from "@/app/pipelines/[id]/HealthPanel";
import { formatBytes, walLevel } from "@/lib/bytes";
import { healthLabel } from "@/lib/connectors";
import { dateTime } from "@/lib/time";
import { usePolling } from "@/lib/hooks/useLive";
import { useAppDispatch, useAppSelector } from "@/lib/store/hooks";
import { fetchConnections } from "@/lib/store/slices/connectionSlice";
import { fetchPipelines } from "@/lib/store/slices/pipelineSlice";
import type { Pipeline } from "@/lib/api/endpoints";

// A slot keeps WAL on the source for as long as nothing reads it: a stopped pipeline says how much it holds.
function WalHeld({ pipeline }: { pipeline: Pipeline }) {
  const held = pipeline.retained_wal_bytes;
  if (held == null) return <Text size="xs" c="dimmed">–</Text>;
  const level = walLevel(held, pipeline.wal_warning_bytes, pipeline.wal_critical_bytes);
  const idle = !["RUNNING", "PAUSED", "STARTING"].includes(pipeline.status);
  return (
    <Text size="xs" c={level === "critical" ? "red" : level === "warning" ? "orange" : undefined}
      fw={idle || level !== "ok" ? 600 : undefined}>
      {formatBytes(held)}{idle ? " held while stopped" : ""}
    </Text>
  );
}

export default function PipelinesPage() {
  const dispatch = useAppDispatch();
  const { items, error, loaded } = useAppSelector((s) => s.pipelines);
  const connections = useAppSelector((s) => s.connections.items);
  const role = useAppSelector((s) => s.auth.user?.role);
  const { refresh, lastLoaded } = usePolling(() => dispatch(fetchPipelines()), "polling");
  useEffect(() => { void dispatch(fetchConnections()); }, [dispatch]);
  const name = (id: string) => connections.find((c) => c.id === id)?.name ?? id.slice(0, 8);
  const [query, setQuery] = useState("");
  const shown = items.filter((p) => !query || `${p.name} ${p.status} ${p.tables.map((t) => t.table).join(" ")}`
    .toLowerCase().includes(query.toLowerCase()));
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>Pipelines</Title>
        <Group>
          <LiveBadge mode="polling" lastLoaded={lastLoaded} onRefresh={() => void refresh()} />
          {role !== "viewer" && <Button component={Link} href="/pipelines/new">New pipeline</Button>}
        </Group>
      </Group>
      <ErrorText error={error} />
      <TextInput placeholder="Search by name, status or table" value={query} maw={360} aria-label="Search pipelines"
        onChange={(e) => setQuery(e.target.value)} data-testid="pipelines-search" />
      <Table.ScrollContainer minWidth={960}>
        <Table striped withTableBorder data-testid="pipelines-table">
          <Table.Thead>
            <Table.Tr><Table.Th>Name</Table.Th><Table.Th>Status</Table.Th><Table.Th>Health</Table.Th>
              <Table.Th>WAL held</Table.Th><Table.Th>Mode</Table.Th>
              <Table.Th>Source → target</Table.Th><Table.Th>Tables</Table.Th><Table.Th>Updated</Table.Th></Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {shown.map((p) => (
              <Table.Tr key={p.id}>
                <Table.Td><Anchor component={Link} href={`/pipelines/${p.id}`}>{p.name}</Anchor></Table.Td>
                <Table.Td><StatusBadge value={p.status} /></Table.Td>
                <Table.Td><HealthBadge value={healthLabel(p.status, p.health)} /></Table.Td>
                <Table.Td data-testid={`wal-held-${p.id}`}><WalHeld pipeline={p} /></Table.Td>
                <Table.Td>{p.mode}</Table.Td>
                <Table.Td>{name(p.source_connection_id)} → {name(p.target_connection_id)}</Table.Td>
                <Table.Td>{p.tables.length}</Table.Td>
                <Table.Td><Text size="xs" title={dateTime(p.updated_at).utc}>{dateTime(p.updated_at).local}</Text></Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      {!loaded && <TableSkeleton />}
      {loaded && !error && !items.length && <Text c="dimmed" data-testid="empty-state">No pipelines yet.</Text>}
    </Stack>
  );
}
