"use client";
import { Button, Card, Group, Select, SimpleGrid, Stack, Table, Text, TextInput, Title } from "@mantine/core";
import { useRouter, useSearchParams } from "next/navigation";
import { Suspense, useEffect, useMemo, useState } from "react";

import EventsChart from "@/app/components/EventsChart";
import EventsTable from "@/app/components/EventsTable";
import LiveBadge from "@/app/components/LiveBadge";
import PauseLive from "@/app/components/PauseLive";
import DocLink from "@/app/components/DocLink";
import EventInspector from "@/app/components/EventInspector";
import { monitoringApi, type CdcEvent, type Metrics } from "@/lib/api/endpoints";
import { formatBytes } from "@/lib/bytes";
import { splitLag } from "@/lib/lag";
import { formatDuration } from "@/lib/time";
import { RANGES, toLocalInput, windowFrom } from "@/lib/timeRange";
import { useEventStream } from "@/lib/hooks/useEventStream";
import { useInterval } from "@/lib/hooks/useLive";
import { useAppDispatch, useAppSelector } from "@/lib/store/hooks";
import { dashboardLoaded, loggerLoaded } from "@/lib/store/slices/monitoringSlice";
import { fetchPipelines } from "@/lib/store/slices/pipelineSlice";

function MonitoringView() {
  const dispatch = useAppDispatch();
  const params = useSearchParams();
  const router = useRouter();
  const preload = Math.min(100_000, Number(params.get("preload") ?? 1000) || 1000);
  const pipelines = useAppSelector((s) => s.pipelines.items);
  const { dashboard, logger, suppressed } = useAppSelector((s) => s.monitoring);
  // Filters live in the URL, so a filtered view can be shared or bookmarked.
  const pipelineId = params.get("pipeline");
  const table = params.get("table");
  const eventType = params.get("type");
  const setFilter = (name: string, value: string | null) => {
    const next = new URLSearchParams(params.toString());
    if (value) next.set(name, value);
    else next.delete(name);
    router.replace(`/monitoring${next.size ? `?${next}` : ""}`, { scroll: false });
  };
  const setPipelineId = (v: string | null) => setFilter("pipeline", v);
  const setTable = (v: string | null) => setFilter("table", v);
  const setEventType = (v: string | null) => setFilter("type", v);
  // A relative range ("last hour") stays live; a fixed window (since/until) shows a past stretch only.
  const query = params.toString();
  const window_ = useMemo(() => windowFrom(params), [query]); // eslint-disable-line react-hooks/exhaustive-deps
  const setWindow = (changes: Record<string, string | null>) => {
    const next = new URLSearchParams(query);
    for (const [name, value] of Object.entries(changes)) {
      if (value) next.set(name, value);
      else next.delete(name);
    }
    router.replace(`/monitoring${next.size ? `?${next}` : ""}`, { scroll: false });
  };
  const setBound = (name: "since" | "until", local: string) => {
    const t = local ? new Date(local) : null;
    setWindow({ range: null, [name]: t && !Number.isNaN(t.getTime()) ? t.toISOString() : null });
  };
  const [inspected, setInspected] = useState<CdcEvent | null>(null);
  const [series, setSeries] = useState<{ t: string }[]>([]);
  const [rate, setRate] = useState<Metrics | null>(null);
  useEffect(() => { void dispatch(fetchPipelines()); }, [dispatch]);
  // Counts come from /monitoring/dashboard, computed by the backend; the browser never counts events.
  const loadStats = async () => {
    const pid = pipelineId ?? undefined;
    const [d, l, ts, m] = await Promise.all([monitoringApi.dashboard(pid), monitoringApi.loggerStatus(),
      monitoringApi.timeseries({ pipeline_id: pid, bucket: "minute", hours: 1 }), monitoringApi.metrics(pid)]);
    dispatch(dashboardLoaded(d));
    dispatch(loggerLoaded(l));
    setSeries(ts.points);
    setRate(m);
  };
  const { events, mode, refresh, lastLoaded } = useEventStream(
    { pipeline_id: pipelineId ?? undefined, table: table ?? undefined, event_type: eventType ?? undefined,
      ...window_ },
    pipelines.map((p) => p.id), loadStats, preload);
  useInterval(() => void loadStats(), 2000);
  const pipelineNames = useMemo(() => Object.fromEntries(pipelines.map((p) => [p.id, p.name])), [pipelines]);
  const tables = Array.from(new Set(pipelines.flatMap((p) => p.tables.map((t) => `${t.schema}.${t.table}`))));
  const cards: [string, string | number][] = [
    ["Total", dashboard?.total_events ?? 0], ["Inserts", dashboard?.insert_count ?? 0],
    ["Updates", dashboard?.update_count ?? 0], ["Deletes", dashboard?.delete_count ?? 0],
    // Not a success rate: changes already in Kafka that the sink has not written to the target yet.
    ["Waiting to apply", (dashboard?.events_pending ?? 0).toLocaleString()],
    ["Avg latency", dashboard?.average_latency_ms != null ? `${dashboard.average_latency_ms} ms` : "–"],
    ["Events/s (1 min)", rate?.events_per_second_1m ?? 0],
  ];
  const lag = splitLag(pipelines, rate?.replication ?? {});
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>Monitoring</Title>
        <Group gap="xs"><PauseLive />
          <LiveBadge mode={mode} lastLoaded={lastLoaded} onRefresh={() => void refresh()} /></Group>
      </Group>
      <SimpleGrid cols={{ base: 2, md: 4, lg: 8 }}>
        {cards.map(([label, value]) => (
          <Card withBorder key={label} data-testid={`stat-${label.toLowerCase().replace(/[^a-z]+/g, "-")}`}>
            <Text size="xs" c="dimmed">{label}</Text><Text fw={700} size="lg" data-testid="value">{value}</Text>
          </Card>
        ))}
      </SimpleGrid>
      <SimpleGrid cols={{ base: 1, md: 2 }}>
        <Card withBorder data-testid="stat-streaming-lag">
          <Text size="xs" c="dimmed">Streaming lag (running pipelines)</Text>
          <Text fw={700} size="lg" data-testid="value">{formatBytes(lag.streamingBytes)} · {formatDuration(lag.streamingSeconds)}</Text>
          <Text size="xs" c="dimmed">Source WAL the running pipelines have not confirmed yet, and how old the newest
            change waiting is. <DocLink doc="lag" /></Text>
        </Card>
        <Card withBorder data-testid="stat-wal-held">
          <Text size="xs" c="dimmed">WAL held by stopped pipelines</Text>
          <Text fw={700} size="lg" data-testid="value" c={lag.heldBytes > 0 ? "orange" : undefined}>
            {formatBytes(lag.heldBytes)}</Text>
          <Text size="xs" c="dimmed">Not lag: the source keeps this WAL for stopped or paused pipelines&apos; slots
            until they resume (or are deleted). <DocLink doc="retained-wal" /></Text>
        </Card>
      </SimpleGrid>
      <Card withBorder><Title order={5}>Events per minute</Title><EventsChart points={series} /></Card>
      <Card withBorder data-testid="logger-status">
        <Title order={5}>Event logger</Title>
        {/* The process-wide counters (every pipeline) are null for non-admins: only their pipelines' lag shows. */}
        <Text size="sm"><span data-testid="logger-state">{logger?.state ?? "stopped"}</span>
          {logger?.stored_total != null && ` · ${logger.events_per_second_1m ?? 0} events/s · stored ${logger.stored_total}`
            + ` · rejected ${logger.rejected_total ?? 0}`} · lag {logger?.total_lag ?? 0}
          {suppressed ? ` · ${suppressed} events summarized by the rate cap` : ""}</Text>
        {logger?.current_error && <Text size="sm" c="red" data-testid="logger-current-error">
          {logger.current_error.message} (since {new Date(logger.current_error.since * 1000).toLocaleTimeString()},
          {" "}{logger.current_error.count}×)</Text>}
        {(logger?.error_history.length ?? 0) > 0 && <Text size="xs" c="dimmed" data-testid="logger-error-history">
          Resolved: {logger?.error_history.slice(0, 3).map((e) => `${e.message} (${Math.round((e.until ?? e.since)
            - e.since)} s, until ${new Date((e.until ?? e.since) * 1000).toLocaleTimeString()})`).join("; ")}</Text>}
        <Table mt="xs"><Table.Tbody>{logger?.assigned_partitions.slice(0, 10).map((p) => (
          <Table.Tr key={`${p.topic}-${p.partition}`}><Table.Td><Text size="xs">{p.topic}[{p.partition}]</Text></Table.Td>
            <Table.Td><Text size="xs">lag {p.lag ?? "?"}</Text></Table.Td></Table.Tr>))}</Table.Tbody></Table>
      </Card>
      <Group>
        <Select placeholder="All pipelines" clearable data={pipelines.map((p) => ({ value: p.id, label: p.name }))}
          value={pipelineId} onChange={setPipelineId} data-testid="filter-pipeline" aria-label="Pipeline" />
        <Select placeholder="All tables" clearable data={tables} value={table} onChange={setTable} />
        <Select placeholder="All types" clearable data={["insert", "update", "delete", "truncate"]} value={eventType}
          onChange={setEventType} />
        <Select placeholder="Any time" clearable data={RANGES.map(({ value, label }) => ({ value, label }))}
          value={params.get("range")} data-testid="filter-range" aria-label="Time range"
          onChange={(v) => setWindow({ range: v, since: null, until: null })} />
        <TextInput type="datetime-local" aria-label="From" placeholder="From" data-testid="filter-since"
          value={params.get("range") ? "" : toLocalInput(window_.since)}
          onChange={(e) => setBound("since", e.currentTarget.value)} />
        <TextInput type="datetime-local" aria-label="To" placeholder="To" data-testid="filter-until"
          value={toLocalInput(window_.until)} onChange={(e) => setBound("until", e.currentTarget.value)} />
        {(params.get("range") || params.get("since") || params.get("until")) && (
          <Button variant="subtle" size="xs" onClick={() => setWindow({ range: null, since: null, until: null })}>
            Any time</Button>)}
        <Text size="sm" c="dimmed" data-testid="events-loaded">{events.length.toLocaleString()} events loaded</Text>
      </Group>
      <EventsTable events={events} height={520} onSelect={setInspected} pipelineNames={pipelineNames} />
      <EventInspector event={inspected} onClose={() => setInspected(null)}
        pipelineName={inspected ? pipelineNames[inspected.pipeline_id] : undefined} />
    </Stack>
  );
}

export default function MonitoringPage() {
  return <Suspense><MonitoringView /></Suspense>;
}
