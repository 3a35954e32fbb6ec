"use client";
// What happened to row X: a table and a primary key in, that row's whole timeline from the event log out (insert,
// each update with the columns it changed, delete). Table and key go in the URL, so a found history can be shared.
import { Badge, Button, Card, Group, Select, Stack, Text, TextInput, Timeline, Title } from "@mantine/core";
import { useEffect, useState, type FormEvent } from "react";

import DiffTable from "@/app/components/DiffTable";
import ErrorText from "@/app/components/ErrorText";
import { canOperate } from "@/lib/access";
import { pipelinesApi, type Pipeline, type ReplayResult, type RowHistory as History } from "@/lib/api/endpoints";

const COLORS: Record<string, string> = { insert: "green", update: "blue", delete: "red" };

function readUrl(): { table: string | null; key: string } {
  const q = new URLSearchParams(window.location.search);
  return { table: q.get("history_table"), key: q.get("history_key") ?? "" };
}

export default function RowHistory({ pipeline }: { pipeline: Pipeline }) {
  const tables = pipeline.tables.map((t) => `${t.schema}.${t.table}`);
  const [table, setTable] = useState<string | null>(tables[0] ?? null);
  const [key, setKey] = useState("");
  const [history, setHistory] = useState<History | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [replayed, setReplayed] = useState<ReplayResult | null>(null);
  const [replaying, setReplaying] = useState(false);
  // Replay re-reads the row from the source and writes it to the target (operators only; confirmed first).
  const replay = async (h: History) => {
    if (!window.confirm(`Replace ${h.table} ${JSON.stringify(h.key)} on the target with the row the source holds `
      + "now (or delete it there if the source no longer has it)?")) return;
    setReplaying(true);
    setError(null);
    try {
      setReplayed(await pipelinesApi.replayRow(pipeline.id, h.table, h.key));
    } catch (err) {
      setError(err);
    } finally {
      setReplaying(false);
    }
  };
  const search = async (t: string, k: string) => {
    setBusy(true);
    setError(null);
    setReplayed(null);
    try {
      setHistory(await pipelinesApi.rowHistory(pipeline.id, t, k));
      const url = new URL(window.location.href);
      url.searchParams.set("history_table", t);
      url.searchParams.set("history_key", k);
      window.history.replaceState(window.history.state, "", url);
    } catch (err) {
      setHistory(null);
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  useEffect(() => {
    const linked = readUrl();
    if (linked.table && linked.key) {
      setTable(linked.table);
      setKey(linked.key);
      void search(linked.table, linked.key);
    }
  // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [pipeline.id]);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (table && key.trim()) void search(table, key.trim());
  };
  return (
    <Card withBorder data-testid="row-history">
      <Title order={4} mb="xs">Row history</Title>
      <form onSubmit={submit}>
        <Group align="flex-end" wrap="wrap">
          <Select label="Table" data={tables} value={table} onChange={setTable} allowDeselect={false} w={260}
            data-testid="history-table" />
          <TextInput label="Primary key" description='A value (42) or key columns as JSON ({"a": 1, "b": 2})'
            value={key} onChange={(e) => setKey(e.target.value)} w={300} name="history-key" />
          <Button type="submit" loading={busy} disabled={!table || !key.trim()}>Show history</Button>
        </Group>
      </form>
      <ErrorText error={error} />
      {history && (
        <Stack mt="md" gap="xs">
          <Text size="sm" data-testid="history-summary">
            {history.items.length === 0 ? "No changes of this row in the event log."
              : `${history.items.length} change${history.items.length === 1 ? "" : "s"} of ${history.table} `
                + `${JSON.stringify(history.key)}; ${history.exists ? "the row exists" : "the row was deleted"}.`}
            {history.truncated && " Only the first 1,000 are shown."}
          </Text>
          {canOperate(pipeline.access) && history.items.length > 0 && (
            <Group gap="xs">
              <Button size="xs" variant="light" loading={replaying} onClick={() => void replay(history)}
                title="Re-apply the row's current source state onto the target">Replay onto target</Button>
              {replayed && <Text size="xs" data-testid="replay-result">
                {replayed.action === "upserted" ? "The target now holds the source's row."
                  : replayed.action === "deleted" ? "The source no longer has this row: deleted on the target."
                    : "Neither the source nor the target has this row."}</Text>}
            </Group>
          )}
          <Timeline bulletSize={18} lineWidth={2} data-testid="history-timeline">
            {history.items.map((c) => (
              <Timeline.Item key={c.id} data-testid="history-item" data-event-type={c.event_type}
                title={<Group gap="xs"><Badge color={COLORS[c.event_type] ?? "gray"}>{c.event_type}</Badge>
                  {c.snapshot && <Badge variant="outline" size="xs">snapshot</Badge>}
                  <Text size="xs" c="dimmed" title={new Date(c.created_at as string).toISOString()}>
                    {new Date(c.source_ts_ms ?? (c.created_at as string)).toLocaleString(undefined,
                      { timeZoneName: "short" })}</Text>
                  <Text size="xs" c="dimmed">LSN {c.source_lsn} · tx {c.tx_id}</Text>
                  {c.changed.length > 0 && <Text size="xs" data-testid="history-changed">changed: {c.changed.join(", ")}</Text>}
                </Group>}>
                <DiffTable before={c.before} after={c.after} />
              </Timeline.Item>
            ))}
          </Timeline>
        </Stack>
      )}
    </Card>
  );
}
