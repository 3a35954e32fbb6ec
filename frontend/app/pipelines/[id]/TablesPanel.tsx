"use client";
// The pipeline's tables on a live pipeline: resync one, remove one, add one from the source.
import { Badge, Button, Card, Group, Select, Table, Text, Title } from "@mantine/core";
import { useEffect, useState } from "react";

import ErrorText from "@/app/components/ErrorText";
import StatusBadge from "@/app/components/StatusBadge";
import { connectionsApi, recoveryApi, type Pipeline, type TableInfo } from "@/lib/api/endpoints";

export default function TablesPanel({ pipeline, actions, canOperate, onDone }: {
  pipeline: Pipeline; actions: string[]; canOperate: boolean; onDone: () => void;
}) {
  const [sourceTables, setSourceTables] = useState<TableInfo[]>([]);
  const [toAdd, setToAdd] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const canAdd = canOperate && actions.includes("add_table");
  useEffect(() => {
    if (canAdd) connectionsApi.tables(pipeline.source_connection_id).then(setSourceTables).catch(() => undefined);
  }, [canAdd, pipeline.source_connection_id]);
  const run = async (key: string, fn: () => Promise<unknown>) => {
    setBusy(key);
    setError(null);
    try { await fn(); onDone(); } catch (err) { setError(err); } finally { setBusy(null); }
  };
  const inPipeline = new Set(pipeline.tables.map((t) => `${t.schema}.${t.table}`));
  const candidates = sourceTables.filter((t) => !inPipeline.has(`${t.schema}.${t.table}`) && t.primary_key.length)
    .map((t) => `${t.schema}.${t.table}`);
  return (
    <Card withBorder data-testid="tables-panel">
      <Title order={4} mb="xs">Tables</Title>
      <Table>
        <Table.Thead><Table.Tr><Table.Th>Table</Table.Th><Table.Th>State</Table.Th><Table.Th>Last resync</Table.Th>
          <Table.Th>Not copied</Table.Th><Table.Th /></Table.Tr></Table.Thead>
        <Table.Tbody>
          {pipeline.tables.map((t) => {
            const name = `${t.schema}.${t.table}`;
            return (
              <Table.Tr key={name} data-testid={`table-${name}`}>
                <Table.Td>{name}{t.error && <Text size="xs" c="red">{t.error}</Text>}</Table.Td>
                <Table.Td><StatusBadge value={t.state} /></Table.Td>
                <Table.Td>{t.resync_state ? <Badge variant="light">{t.resync_state}</Badge> : "–"}</Table.Td>
                <Table.Td>{t.ignored_columns?.length ? t.ignored_columns.join(", ") : "–"}</Table.Td>
                <Table.Td>
                  {canOperate && <Group gap={4} justify="flex-end">
                    {actions.includes("resync") && <Button size="compact-xs" variant="light" loading={busy === `resync ${name}`}
                      data-testid={`resync-${name}`} disabled={["REQUESTED", "RUNNING"].includes(t.resync_state ?? "")}
                      onClick={() => void run(`resync ${name}`, () => recoveryApi.resync(pipeline.id, name))}>Resync</Button>}
                    {actions.includes("remove_table") && pipeline.tables.length > 1 && <Button size="compact-xs"
                      variant="subtle" color="red" loading={busy === `remove ${name}`} data-testid={`remove-${name}`}
                      onClick={() => void run(`remove ${name}`, () => recoveryApi.removeTable(pipeline.id, name))}>Remove</Button>}
                  </Group>}
                </Table.Td>
              </Table.Tr>
            );
          })}
        </Table.Tbody>
      </Table>
      {canAdd && (
        <Group mt="sm" align="flex-end">
          <Select label="Add a table (loaded in full, then streamed; the others keep streaming)" w={420} searchable
            data={candidates} value={toAdd} onChange={setToAdd} data-testid="add-table-select" />
          <Button size="xs" disabled={!toAdd} loading={busy === "add"} data-testid="add-table"
            onClick={() => toAdd && void run("add", async () => { await recoveryApi.addTable(pipeline.id, toAdd); setToAdd(null); })}>
            Add table</Button>
        </Group>
      )}
      <ErrorText error={error} />
    </Card>
  );
}
