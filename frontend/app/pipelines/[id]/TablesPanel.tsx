"use client";
// The pipeline's tables on a live pipeline: resync one, remove one, add one from the source, retry one whose adding
// failed. What cannot work here (the source's database type, the source user's rights) is shown disabled, with why.
import { Badge, Button, Card, Group, Select, Switch, Table, Text, Title } from "@mantine/core";
import { useEffect, useState } from "react";

import ConfirmDialog from "@/app/components/ConfirmDialog";
import ErrorText from "@/app/components/ErrorText";
import StatusBadge from "@/app/components/StatusBadge";
import { connectionsApi, recoveryApi, type Connection, type Pipeline, type TableInfo } from "@/lib/api/endpoints";
import { pickable } from "@/lib/tables";

type Pending = { kind: "resync" | "remove"; table: string };

export default function TablesPanel({ pipeline, source, actions, unavailable, canOperate, onDone }: {
  pipeline: Pipeline; source: Connection | undefined; actions: string[]; unavailable: Record<string, string>;
  canOperate: boolean; onDone: () => void;
}) {
  const [sourceTables, setSourceTables] = useState<TableInfo[]>([]);
  const [everySchema, setEverySchema] = useState(false);
  const [toAdd, setToAdd] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [pending, setPending] = useState<Pending | null>(null);
  const addAllowed = canOperate && actions.includes("add_table");
  const addReason = canOperate ? unavailable.add_table : undefined;
  const resyncReason = canOperate ? unavailable.resync : undefined;
  useEffect(() => {
    if (addAllowed) connectionsApi.tables(pipeline.source_connection_id).then(setSourceTables).catch(() => undefined);
  }, [addAllowed, pipeline.source_connection_id]);
  const run = async (key: string, fn: () => Promise<unknown>) => {
    setBusy(key);
    setError(null);
    try { await fn(); onDone(); } catch (err) { setError(err); } finally { setBusy(null); }
  };
  const inPipeline = new Set(pipeline.tables.map((t) => `${t.schema}.${t.table}`));
  const candidates = pickable(sourceTables, source?.schema, everySchema)
    .filter((t) => !inPipeline.has(`${t.schema}.${t.table}`) && t.primary_key.length).map((t) => `${t.schema}.${t.table}`);
  const confirmRun = () => {
    if (!pending) return;
    const { kind, table } = pending;
    void run(`${kind} ${table}`, () => kind === "resync" ? recoveryApi.resync(pipeline.id, table)
      : recoveryApi.removeTable(pipeline.id, table)).then(() => setPending(null));
  };
  return (
    <Card withBorder data-testid="tables-panel">
      <Title order={4} mb="xs">Tables</Title>
      <Table>
        <Table.Thead><Table.Tr><Table.Th>Table</Table.Th><Table.Th>State</Table.Th><Table.Th>Last resync</Table.Th>
          <Table.Th>Not copied</Table.Th><Table.Th /></Table.Tr></Table.Thead>
        <Table.Tbody>
          {pipeline.tables.map((t) => {
            const name = `${t.schema}.${t.table}`;
            const resyncing = ["REQUESTED", "RUNNING"].includes(t.resync_state ?? "");
            return (
              <Table.Tr key={name} data-testid={`table-${name}`}>
                <Table.Td>{name}{t.error && <Text size="xs" c="red" data-testid={`table-error-${name}`}>{t.error}</Text>}</Table.Td>
                <Table.Td><StatusBadge value={t.state} testId={`table-state-${name}`} /></Table.Td>
                <Table.Td>{t.resync_state ? <Badge variant="light">{t.resync_state}</Badge> : "–"}</Table.Td>
                <Table.Td>{t.ignored_columns?.length ? t.ignored_columns.join(", ") : "–"}</Table.Td>
                <Table.Td>
                  {canOperate && <Group gap={4} justify="flex-end">
                    {t.state === "FAILED" && actions.includes("add_table") && <Button size="compact-xs" color="orange"
                      loading={busy === `retry ${name}`} data-testid={`retry-${name}`}
                      title="Run the table's adding again: its load, capture and connectors; the others keep streaming"
                      onClick={() => void run(`retry ${name}`, () => recoveryApi.addTable(pipeline.id, name))}>
                      Retry</Button>}
                    {(actions.includes("resync") || resyncReason) && <Button size="compact-xs" variant="light"
                      data-testid={`resync-${name}`} disabled={Boolean(resyncReason) || resyncing}
                      title={resyncReason ?? "Empty the target table and load it again while the others keep streaming"}
                      onClick={() => setPending({ kind: "resync", table: name })}>Resync</Button>}
                    {(actions.includes("remove_table") || unavailable.remove_table) && pipeline.tables.length > 1 &&
                      <Button size="compact-xs" variant="subtle" color="red" data-testid={`remove-${name}`}
                        disabled={Boolean(unavailable.remove_table)} title={unavailable.remove_table}
                        onClick={() => setPending({ kind: "remove", table: name })}>Remove</Button>}
                  </Group>}
                </Table.Td>
              </Table.Tr>
            );
          })}
        </Table.Tbody>
      </Table>
      {canOperate && (resyncReason || addReason || unavailable.remove_table) && (
        <Text size="sm" c="dimmed" mt="xs" data-testid="tables-unavailable">
          {[...new Set([resyncReason, addReason, unavailable.remove_table].filter(Boolean))].join(" ")}
        </Text>
      )}
      {(addAllowed || addReason) && (
        <Group mt="sm" align="flex-end">
          <Select label="Add a table (loaded in full, then streamed; the others keep streaming)" w={420} searchable
            data={candidates} value={toAdd} onChange={setToAdd} data-testid="add-table-select" disabled={Boolean(addReason)}
            nothingFoundMessage="No other table with a primary key in this schema" />
          {source && sourceTables.some((t) => t.schema !== source.schema) &&
            <Switch label="Every schema" checked={everySchema} data-testid="add-table-every-schema"
              onChange={(e) => setEverySchema(e.currentTarget.checked)} />}
          <Button size="xs" disabled={!toAdd || Boolean(addReason)} loading={busy === "add"} data-testid="add-table"
            title={addReason}
            onClick={() => toAdd && void run("add", async () => { await recoveryApi.addTable(pipeline.id, toAdd); setToAdd(null); })}>
            Add table</Button>
        </Group>
      )}
      {!pending && <ErrorText error={error} />}
      <ConfirmDialog opened={pending !== null} busy={busy !== null} error={pending ? error : null}
        title={pending?.kind === "resync" ? `Resync ${pending.table}?` : `Remove ${pending?.table} from the pipeline?`}
        confirmLabel={pending?.kind === "resync" ? "Resync" : "Remove"}
        onCancel={() => { setPending(null); setError(null); }} onConfirm={confirmRun}>
        <Text size="sm">{pending?.kind === "resync"
          ? `The target table ${pending.table} is emptied, then loaded again from the source while the other tables ` +
            "keep streaming. Until the load ends, the target holds only part of its rows."
          : `Changes to ${pending?.table} stop reaching the target. Its target table and topic are kept as they are; ` +
            "adding it again later reloads it in full."}</Text>
      </ConfirmDialog>
    </Card>
  );
}
