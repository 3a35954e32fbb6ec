"use client";
import { Progress, Table, Text } from "@mantine/core";

import StatusBadge from "@/app/components/StatusBadge";
import type { PipelineProgressView } from "@/lib/api/endpoints";

export default function ProgressTable({ progress }: { progress: PipelineProgressView }) {
  return (
    <Table withTableBorder data-testid="progress-table">
      <Table.Thead><Table.Tr><Table.Th>Table</Table.Th><Table.Th>State</Table.Th><Table.Th w="35%">Progress</Table.Th>
        <Table.Th>Rows</Table.Th><Table.Th>Rows/s</Table.Th><Table.Th>ETA</Table.Th></Table.Tr></Table.Thead>
      <Table.Tbody>
        {progress.tables.map((t) => (
          <Table.Tr key={`${t.schema_name}.${t.table}`} data-testid={`progress-${t.schema_name}.${t.table}`}>
            <Table.Td>{t.schema_name}.{t.table}</Table.Td>
            <Table.Td><StatusBadge value={t.state} /></Table.Td>
            <Table.Td>
              {t.percent == null
                ? <Progress value={100} size="lg" striped animated color="gray" aria-label={`${t.table} progress`} />
                : <Progress value={t.percent} size="lg" aria-label={`${t.table} progress`} />}
              <Text size="xs" data-testid="percent">{t.percent == null ? "unknown (no row estimate)" : `${t.percent}%`}</Text>
            </Table.Td>
            <Table.Td>{t.rows_copied.toLocaleString()} / {t.rows_estimated == null ? "?" : `~${t.rows_estimated.toLocaleString()}`}</Table.Td>
            <Table.Td>{t.rows_per_second ? Math.round(t.rows_per_second).toLocaleString() : "–"}</Table.Td>
            <Table.Td>{t.eta_seconds != null ? `${Math.ceil(t.eta_seconds)} s` : "–"}</Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}
