"use client";
// What happened to row X: a table and a primary key in, that row's whole timeline from the event log out (insert,
// each update with the columns it changed, delete). Table and key go in the URL, so a found history can be shared.
import { Badge, Button, Card, Group, Select, Stack, Text, TextInput, Timeline, Title } from "@mantine/core";
import { useEffect, useState, type FormEvent } from "react";

import ConfirmDialog from "@/app/components/ConfirmDialog";
import DiffTable from "@/app/components/DiffTable";
import { ROW_HISTORY_EVENT } from "@/app/components/EventInspector";
import ErrorText from "@/app/components/ErrorText";
import { canOperate } from "@/lib/access";
import { formatLsn } from "@/lib/lsn";
import { pipelinesApi, type Pipeline, type ReplayPreview, type ReplayResult, type RowHistory as History }
  from "@/lib/api/endpoints";

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
  const [preview, setPreview] = useState<ReplayPreview | null>(null);
  // Replay re-reads the row from the source and writes it to the target (operators only): first what it would
  // write, source against target, then the write once confirmed.
  const askReplay = async (h: History) => {
    setReplaying(true);
    setError(null);
    try { setPreview(await pipelinesApi.replayPreview(pipeline.id, h.table, h.key)); } catch (err) { setError(err); }
    finally { setReplaying(false); }
  };
  const replay = async (p: ReplayPreview) => {
    setReplaying(true);
    setError(null);
    try {
      setReplayed(await pipelinesApi.replayRow(pipeline.id, p.table, p.key));
      setPreview(null);
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
    const show = (linked: { table: string | null; key: string }) => {
      if (!linked.table || !linked.key) return;
      setTable(linked.table);
      setKey(linked.key);
      void search(linked.table, linked.key);
      document.getElementById("row-history")?.scrollIntoView();
    };
    show(readUrl());
    // The event inspector's "row history" link, followed on this page: it stays mounted, so it is told.
    const onLink = (e: Event) => show((e as CustomEvent<{ table: string; key: string }>).detail);
    window.addEventListener(ROW_HISTORY_EVENT, onLink);
    return () => window.removeEventListener(ROW_HISTORY_EVENT, onLink);
  // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [pipeline.id]);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (table && key.trim()) void search(table, key.trim());
  };
  return (
    <Card withBorder data-testid="row-history" id="row-history">
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
              <Button size="xs" variant="light" loading={replaying} onClick={() => void askReplay(history)}
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
                  <Text size="xs" c="dimmed">LSN {formatLsn(c.source_lsn)} · tx {c.tx_id}</Text>
                  {c.changed.length > 0 && <Text size="xs" data-testid="history-changed">changed: {c.changed.join(", ")}</Text>}
                </Group>}>
                <DiffTable before={c.before} after={c.after} />
              </Timeline.Item>
            ))}
          </Timeline>
        </Stack>
      )}
      <ConfirmDialog opened={preview !== null} title="Replay this row onto the target?" busy={replaying}
        error={preview ? error : null} confirmLabel="Replay" disabled={preview?.action === "none"}
        onCancel={() => setPreview(null)} onConfirm={() => preview && void replay(preview)}>
        <Text size="sm" data-testid="replay-plan">{preview?.action === "upsert"
          ? `The target's row becomes the source's: ${preview.changed.length} column${preview.changed.length === 1
            ? "" : "s"} differ${preview.changed.length === 1 ? "s" : ""} (${preview.changed.join(", ")}).`
          : preview?.action === "delete" ? "The source no longer has this row: it is deleted on the target."
            : "Source and target agree on this row: there is nothing to write."}</Text>
        {preview && (preview.source || preview.target) &&
          <DiffTable before={preview.target} after={preview.source} testId="replay-diff" />}
        <Text size="xs" c="dimmed">Before: the target now. After: the source now.</Text>
      </ConfirmDialog>
    </Card>
  );
}
