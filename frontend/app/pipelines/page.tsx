"use client";
import { Anchor, Button, Group, Pagination, Select, Stack, Table, Text, TextInput, Title, UnstyledButton }
  from "@mantine/core";
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
import { listed, paged, type SortKey } from "@/lib/listing";
import { modeLabel } from "@/lib/modes";

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

const STATUSES = ["NOT_STARTED", "STARTING", "RUNNING", "PAUSED", "STOPPING", "STOPPED", "ERROR"];

export default function PipelinesPage() {
  const dispatch = useAppDispatch();
  const { items, error, loaded } = useAppSelector((s) => s.pipelines);
  const connections = useAppSelector((s) => s.connections.items);
  const role = useAppSelector((s) => s.auth.user?.role);
  const { refresh, lastLoaded } = usePolling(() => dispatch(fetchPipelines()), "polling");
  useEffect(() => { void dispatch(fetchConnections()); }, [dispatch]);
  const name = (id: string) => connections.find((c) => c.id === id)?.name ?? id.slice(0, 8);
  const [query, setQuery] = useState("");
  const [status, setStatus] = useState<string | null>(null);
  const [sort, setSort] = useState<SortKey>("name");
  const [descending, setDescending] = useState(false);
  const [page, setPage] = useState(1);
  const matched = items.filter((p) => !query || `${p.name} ${p.status} ${p.tables.map((t) => t.table).join(" ")}`
    .toLowerCase().includes(query.toLowerCase()));
  const view = paged(listed(matched, status, sort, descending), page);
  const shown = view.rows;
  const sortBy = (key: SortKey) => {
    if (key === sort) setDescending(!descending);
    else { setSort(key); setDescending(key === "updated"); }
  };
  const header = (key: SortKey, label: string) => (
    <Table.Th><UnstyledButton onClick={() => sortBy(key)} data-testid={`sort-${key}`} fw={700} fz="sm"
      aria-sort={sort === key ? (descending ? "descending" : "ascending") : undefined}>
      {label}{sort === key ? (descending ? " ↓" : " ↑") : ""}</UnstyledButton></Table.Th>);
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
      <Group>
        <TextInput placeholder="Search by name, status or table" value={query} w={360} aria-label="Search pipelines"
          onChange={(e) => { setQuery(e.target.value); setPage(1); }} data-testid="pipelines-search" />
        <Select placeholder="Any status" clearable aria-label="Status" data-testid="status-filter" w={180}
          data={STATUSES} value={status} onChange={(v) => { setStatus(v); setPage(1); }} />
      </Group>
      <Table.ScrollContainer minWidth={1120}>
        <Table striped withTableBorder data-testid="pipelines-table">
          <Table.Thead>
            <Table.Tr>{header("name", "Name")}{header("status", "Status")}<Table.Th>Health</Table.Th>
              <Table.Th>WAL held</Table.Th><Table.Th>Mode</Table.Th>
              <Table.Th>Source → target</Table.Th><Table.Th>Tables</Table.Th>{header("updated", "Updated")}</Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {shown.map((p) => (
              <Table.Tr key={p.id}>
                <Table.Td><Anchor component={Link} href={`/pipelines/${p.id}`}>{p.name}</Anchor></Table.Td>
                <Table.Td miw={120}><StatusBadge value={p.status} /></Table.Td>
                <Table.Td miw={110}><HealthBadge value={healthLabel(p.status, p.health)} /></Table.Td>
                <Table.Td data-testid={`wal-held-${p.id}`}><WalHeld pipeline={p} /></Table.Td>
                <Table.Td>{modeLabel(p.mode)}</Table.Td>
                <Table.Td>{name(p.source_connection_id)} → {name(p.target_connection_id)}</Table.Td>
                <Table.Td>{p.tables.length}</Table.Td>
                <Table.Td><Text size="xs" title={dateTime(p.updated_at).utc}>{dateTime(p.updated_at).local}</Text></Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      {view.pages > 1 && <Pagination total={view.pages} value={view.page} onChange={setPage} data-testid="pagination" />}
      {loaded && items.length > 0 && !matched.filter((p) => !status || p.status === status).length &&
        <Text c="dimmed" size="sm">No pipeline matches.</Text>}
      {!loaded && <TableSkeleton />}
      {loaded && !error && !items.length && <Text c="dimmed" data-testid="empty-state">No pipelines yet.</Text>}
    </Stack>
  );
}
