"use client";
import { Alert, Anchor, Badge, Button, Card, Code, Group, SimpleGrid, Stack, Table, Text, Title } from "@mantine/core";
import Link from "next/link";
import { useParams } from "next/navigation";
import { useEffect, useRef, useState } from "react";

import AccessPanel from "@/app/components/AccessPanel";
import Actions from "@/app/pipelines/[id]/Actions";
import HealthPanel from "@/app/pipelines/[id]/HealthPanel";
import ProgressTable from "@/app/pipelines/[id]/ProgressTable";
import Recovery, { ResetButton, RestartFailedButton } from "@/app/pipelines/[id]/Recovery";
import SchemaPanel from "@/app/pipelines/[id]/SchemaPanel";
import TablesPanel from "@/app/pipelines/[id]/TablesPanel";
import ErrorText from "@/app/components/ErrorText";
import { TableSkeleton } from "@/app/components/Skeleton";
import EventsChart from "@/app/components/EventsChart";
import ConnectorStateBadge, { FailureExplained } from "@/app/components/ConnectorState";
import EventInspector from "@/app/components/EventInspector";
import EventsTable from "@/app/components/EventsTable";
import CdcPanel from "@/app/pipelines/[id]/CdcPanel";
import LatencyPanel from "@/app/pipelines/[id]/LatencyPanel";
import RowHistory from "@/app/pipelines/[id]/RowHistory";
import LiveBadge from "@/app/components/LiveBadge";
import PauseLive from "@/app/components/PauseLive";
import StatusBadge from "@/app/components/StatusBadge";
import { canManage, canOperate } from "@/lib/access";
import { formatLsn } from "@/lib/lsn";
import { modeLabel, splitTrace } from "@/lib/modes";
import { monitoringApi, pipelinesApi, type CdcEvent, type Dashboard, type Metrics,
  type SyncStats } from "@/lib/api/endpoints";
import { useEventStream } from "@/lib/hooks/useEventStream";
import { useInterval } from "@/lib/hooks/useLive";
import { useAppDispatch, useAppSelector } from "@/lib/store/hooks";
import { fetchConnections } from "@/lib/store/slices/connectionSlice";
import { fetchPipelineDetail, pipelineRemoved } from "@/lib/store/slices/pipelineSlice";

export default function PipelinePage() {
  const { id } = useParams<{ id: string }>();
  const dispatch = useAppDispatch();
  const pipeline = useAppSelector((s) => s.pipelines.items.find((p) => p.id === id));
  const status = useAppSelector((s) => s.pipelines.status[id]);
  const progress = useAppSelector((s) => s.pipelines.progress[id]);
  const role = useAppSelector((s) => s.auth.user?.role);
  const connections = useAppSelector((s) => s.connections.items);
  useEffect(() => { void dispatch(fetchConnections()); }, [dispatch]);
  const [error, setError] = useState<unknown>(null);
  const [counts, setCounts] = useState<Dashboard | null>(null);
  const [series, setSeries] = useState<{ t: string }[]>([]);
  const [sync, setSync] = useState<SyncStats | null>(null);
  const [checking, setChecking] = useState(false);
  const [inspected, setInspected] = useState<CdcEvent | null>(null);
  const [metrics, setMetrics] = useState<Metrics | null>(null);
  // Deleted, or never visible to this user: say so once and stop asking (not "Loading…" forever).
  const [missing, setMissing] = useState(false);
  // One refresh at a time: on a slow network or a busy machine, polls that overlap only queue up more work.
  const loading = useRef(false);
  const loadDetail = async () => {
    if (missing || loading.current) return;
    loading.current = true;
    try {
      await refreshDetail();
    } finally {
      loading.current = false;
    }
  };
  const refreshDetail = async () => {
    const result = await dispatch(fetchPipelineDetail(id));
    if (fetchPipelineDetail.rejected.match(result) && result.error.code === "not_found") {
      dispatch(pipelineRemoved(id));
      setMissing(true);
      return;
    }
    setError(fetchPipelineDetail.rejected.match(result) ? result.error.message : null);
    setCounts(await monitoringApi.dashboard(id).catch(() => null));
    setMetrics(await monitoringApi.metrics(id).catch(() => null));
    setSeries((await monitoringApi.timeseries({ pipeline_id: id, bucket: "minute", hours: 1 }).catch(() => null))
      ?.points ?? []);
  };
  // Status and progress are polled every 2 s while the page is open; events arrive live or by polling.
  const { events, mode, refresh, lastLoaded } = useEventStream({ pipeline_id: id }, [id], loadDetail);
  const busy = pipeline && ["STARTING", "STOPPING"].includes(pipeline.status);
  useInterval(() => void loadDetail(), busy ? 1000 : 2000);

  const check = async () => {
    setChecking(true);
    try { setSync(await pipelinesApi.syncStats(id)); } catch (err) { setError(err); } finally { setChecking(false); }
  };
  if (missing) {
    return (
      <Stack data-testid="pipeline-missing" align="flex-start">
        <Title order={2}>Pipeline not found</Title>
        <Alert color="gray" role="alert">Pipeline not found: it was deleted, or you do not have access to it.</Alert>
        <Anchor component={Link} href="/pipelines">Back to pipelines</Anchor>
      </Stack>
    );
  }
  if (!pipeline) return <><ErrorText error={error} />{!error && <TableSkeleton rows={6} />}</>;
  // The caller's level on this pipeline (resource grants), not their role, decides which actions are offered.
  const mayOperate = canOperate(pipeline.access);
  const mayManage = canManage(pipeline.access);
  return (
    <Stack>
      <Group justify="space-between">
        <Group><Title order={2}>{pipeline.name}</Title><StatusBadge value={pipeline.status} testId="pipeline-status" />
          <Badge variant="outline" tt="none" style={{ maxWidth: "none" }} data-testid="pipeline-mode">
            {modeLabel(pipeline.mode)}</Badge></Group>
        <Group>
          <PauseLive />
          <LiveBadge mode={mode} lastLoaded={lastLoaded} onRefresh={() => void refresh()} />
          {mayOperate && <Actions pipeline={pipeline} onDone={() => void loadDetail()} />}
          {mayOperate && status?.available_actions?.includes("reset") &&
            <ResetButton pipeline={pipeline} onDone={() => void loadDetail()} />}
        </Group>
      </Group>
      <ErrorText error={error} />
      {pipeline.last_error && <Alert color="red" title="Last error" data-testid="last-error">
        {splitTrace(pipeline.last_error).summary}
        {splitTrace(pipeline.last_error).details && <details data-testid="last-error-details"><summary>Details</summary>
          <Code block mah={220} style={{ overflow: "auto" }}>{splitTrace(pipeline.last_error).details}</Code></details>}
      </Alert>}
      {status && <Recovery pipeline={pipeline} status={status} canOperate={mayOperate}
        onDone={() => void loadDetail()} />}
      <SimpleGrid cols={{ base: 2, md: 5 }}>
        {[["Total", counts?.total_events], ["Inserts", counts?.insert_count], ["Updates", counts?.update_count],
          ["Deletes", counts?.delete_count], ["Avg latency", counts?.average_latency_ms != null ? `${counts.average_latency_ms} ms` : "–"]]
          .map(([label, value]) => (
            <Card withBorder key={String(label)} data-testid={`count-${String(label).toLowerCase()}`}>
              <Text size="xs" c="dimmed">{label}</Text><Text fw={700} size="xl">{value ?? 0}</Text>
            </Card>
          ))}
      </SimpleGrid>
      <Card withBorder>
        <Title order={4} mb="xs">Full load <StatusBadge value={pipeline.full_load_status} testId="full-load-status" /></Title>
        {progress && <ProgressTable progress={progress} />}
        {progress?.last_run && <Text size="xs" c="dimmed" mt="xs">Last load: {progress.last_run.rows?.toLocaleString()} rows
          in {progress.last_run.seconds} s ({progress.last_run.rows_per_second?.toLocaleString()} rows/s), snapshot LSN{" "}
          <span data-testid="snapshot-lsn">{formatLsn(progress.last_run.snapshot_lsn)}</span></Text>}
      </Card>
      {status && <HealthPanel pipeline={pipeline} status={status} canEdit={mayManage}
        onChanged={() => void loadDetail()} />}
      {status && (
        <Card withBorder>
          <Title order={4} mb="xs">Connectors</Title>
          {!status.connect.reachable && <Alert color="yellow">Kafka Connect unreachable: {status.connect.error}</Alert>}
          <Table data-testid="connectors">
            <Table.Tbody>
              {(["source", "sink"] as const).map((role) => {
                const c = status.connect[role];
                return (
                  <Table.Tr key={role}>
                    <Table.Td w={80}>{role}</Table.Td>
                    <Table.Td w={170}><ConnectorStateBadge pipelineStatus={pipeline.status} connector={c}
                      testId={`connector-${role}`} /></Table.Td>
                    <Table.Td>{c?.tasks.map((t) => (
                      <div key={t.id}><Group gap="xs"><Text size="sm">task {t.id}: {t.state} on {t.worker_id}</Text>
                        {t.state === "FAILED" && mayOperate &&
                          <RestartFailedButton pipelineId={pipeline.id} onDone={() => void loadDetail()} />}</Group>
                        {t.state === "FAILED" && <FailureExplained trace={t.trace ?? t.error ?? ""} />}</div>))}
                    </Table.Td>
                  </Table.Tr>
                );
              })}
            </Table.Tbody>
          </Table>
        </Card>
      )}
      <TablesPanel pipeline={pipeline} actions={status?.available_actions ?? []}
        unavailable={status?.unavailable_actions ?? pipeline.unavailable_actions ?? {}} canOperate={mayOperate}
        source={connections.find((c) => c.id === pipeline.source_connection_id)} onDone={() => void loadDetail()} />
      <SchemaPanel pipeline={pipeline} canEdit={mayManage} onChanged={() => void loadDetail()} />
      <CdcPanel pipeline={pipeline} metrics={metrics} />
      <LatencyPanel pipelineId={pipeline.id} />
      <Card withBorder>
        <Title order={4} mb="xs">Throughput (events per minute, last hour)</Title>
        <EventsChart points={series} />
      </Card>
      <Card withBorder>
        <Group justify="space-between" mb="xs"><Title order={4}>Live events</Title></Group>
        <EventsTable events={events} height={320} onSelect={setInspected} />
        <EventInspector event={inspected} onClose={() => setInspected(null)} />
      </Card>
      <RowHistory pipeline={pipeline} />
      <Card withBorder>
        <Group justify="space-between" mb="xs">
          <Title order={4}>Verify source and target</Title>
          {mayOperate &&
            <Button size="xs" loading={checking} onClick={() => void check()} data-testid="sync-stats">Compare now</Button>}
        </Group>
        {sync && (
          <Table data-testid="sync-result">
            <Table.Thead><Table.Tr><Table.Th>Table</Table.Th><Table.Th>Source rows</Table.Th><Table.Th>Target rows</Table.Th>
              <Table.Th>Result</Table.Th></Table.Tr></Table.Thead>
            <Table.Tbody>{sync.tables.map((t) => (
              <Table.Tr key={t.table}><Table.Td>{t.schema_name}.{t.table}</Table.Td><Table.Td>{t.source_rows}</Table.Td>
                <Table.Td>{t.target_rows}</Table.Td>
                <Table.Td><Badge color={t.match ? "green" : "red"}>{t.match ? "match" : "mismatch"}</Badge></Table.Td></Table.Tr>
            ))}</Table.Tbody>
          </Table>
        )}
      </Card>
      {role === "admin" && <AccessPanel kind="pipelines" id={id} />}
    </Stack>
  );
}
