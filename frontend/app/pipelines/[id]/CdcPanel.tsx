"use client";
// The pipeline's CDC at a glance: its streaming lag (bytes and time) or, when it is not running, the WAL its slot
// holds; and per table: events by type, the newest event, latency, and the table's own error.
import { Badge, Card, Group, SimpleGrid, Table, Text, Title } from "@mantine/core";

import DocLink from "@/app/components/DocLink";
import type { Metrics, Pipeline } from "@/lib/api/endpoints";
import { formatBytes } from "@/lib/bytes";
import { dateTime, formatDuration, relativeTime } from "@/lib/time";

type TableRow = { table: string; total: number; insert?: number; update?: number; delete?: number;
  last_event_at?: string | null; average_latency_ms?: number | null };

export default function CdcPanel({ pipeline, metrics }: { pipeline: Pipeline; metrics: Metrics | null }) {
  const lag = metrics?.replication?.[pipeline.id];
  const running = pipeline.status === "RUNNING";
  // The lag is read from PostgreSQL's replication slot; a MariaDB source has no slot (its position lives in the
  // connector's offsets), so the card says what is measured for it instead of speaking of WAL.
  const mariadb = pipeline.source_database_type === "mariadb";
  const counted = new Map(((metrics?.tables ?? []) as TableRow[]).map((t) => [t.table, t]));
  return (
    <Card withBorder data-testid="cdc-panel">
      <Group justify="space-between" mb="xs"><Title order={4}>Change data capture</Title><DocLink doc="lag" /></Group>
      <SimpleGrid cols={{ base: 1, sm: 2 }} mb="sm">
        {mariadb ? (
          <div data-testid="pipeline-lag">
            <Text size="xs" c="dimmed">Streaming lag ({running ? "binlog" : `not streaming: ${pipeline.status}`})</Text>
            <Text fw={700}>Not measured for MariaDB sources yet</Text>
            <Text size="xs" c="dimmed">Read position is kept in the source connector&apos;s offsets; see the latency
              panel for how far behind the target is.</Text>
          </div>
        ) : running ? (
          <div data-testid="pipeline-lag">
            <Text size="xs" c="dimmed">Streaming lag: WAL not yet confirmed · age of the newest waiting change</Text>
            <Text fw={700}>{formatBytes(lag?.lag_bytes ?? 0)} · {formatDuration(lag?.lag_seconds ?? 0)}</Text>
          </div>
        ) : (
          <div data-testid="pipeline-lag">
            <Text size="xs" c="dimmed">Not streaming ({pipeline.status}): WAL the slot holds for later</Text>
            <Text fw={700}>{pipeline.retained_wal_bytes != null ? formatBytes(pipeline.retained_wal_bytes) : "no slot"}</Text>
          </div>
        )}
      </SimpleGrid>
      <Table.ScrollContainer minWidth={640}>
        <Table data-testid="per-table" fz="sm">
          <Table.Thead><Table.Tr><Table.Th>Table</Table.Th><Table.Th>Inserts</Table.Th><Table.Th>Updates</Table.Th>
            <Table.Th>Deletes</Table.Th><Table.Th>Last event</Table.Th><Table.Th>Avg latency</Table.Th>
            <Table.Th>Errors</Table.Th></Table.Tr></Table.Thead>
          <Table.Tbody>{pipeline.tables.map((t) => {
            const name = `${t.schema}.${t.table}`;
            const c = counted.get(name);
            return (
              <Table.Tr key={name} data-testid={`per-table-${name}`}>
                <Table.Td>{name}</Table.Td><Table.Td>{c?.insert ?? 0}</Table.Td><Table.Td>{c?.update ?? 0}</Table.Td>
                <Table.Td>{c?.delete ?? 0}</Table.Td>
                <Table.Td>{c?.last_event_at
                  ? <Text size="sm" title={`${dateTime(c.last_event_at).local} · ${dateTime(c.last_event_at).utc}`}>
                    {relativeTime(c.last_event_at)}</Text> : "–"}</Table.Td>
                <Table.Td>{c?.average_latency_ms != null ? `${c.average_latency_ms} ms` : "–"}</Table.Td>
                <Table.Td>{t.error ? <Badge color="red" title={t.error}>error</Badge>
                  : t.resync_state ? <Badge color="blue">{t.resync_state}</Badge> : "–"}</Table.Td>
              </Table.Tr>
            );
          })}</Table.Tbody>
        </Table>
      </Table.ScrollContainer>
    </Card>
  );
}
