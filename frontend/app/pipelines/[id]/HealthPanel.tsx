"use client";
// The pipeline's health as /status judges it (ok | degraded | error, with the problems behind it), and the slot
// guardian's figures: the WAL the source keeps for the pipeline's slot, with thresholds operators can change.
import { Badge, Button, Card, Group, NumberInput, SimpleGrid, Stack, Table, Text, Title } from "@mantine/core";
import { useState } from "react";

import DocLink from "@/app/components/DocLink";
import ErrorText from "@/app/components/ErrorText";
import { pipelinesApi, type Pipeline, type PipelineStatusView, type WalFigures } from "@/lib/api/endpoints";
import { formatBytes, walLevel } from "@/lib/bytes";

const HEALTH_COLORS: Record<string, string> = { ok: "green", degraded: "yellow", error: "red" };
const MIB = 1024 ** 2;

export function HealthBadge({ value, testId }: { value: string | null | undefined; testId?: string }) {
  if (!value) return null;
  return <Badge color={HEALTH_COLORS[value] ?? "gray"} variant="light" data-testid={testId}>{value}</Badge>;
}

function Figure({ label, value, testId, color }: { label: string; value: string; testId?: string; color?: string }) {
  return (
    <div><Text size="xs" c="dimmed">{label}</Text><Text fw={600} c={color} data-testid={testId}>{value}</Text></div>
  );
}

function WalFiguresView({ wal }: { wal: WalFigures }) {
  const level = walLevel(wal.retained_bytes, wal.warning_bytes, wal.critical_bytes);
  const keep = wal.max_slot_wal_keep_size;
  return (
    <SimpleGrid cols={{ base: 2, md: 4 }}>
      <div>
        <Figure label="WAL retained by the slot" value={formatBytes(wal.retained_bytes)} testId="wal-retained"
          color={level === "critical" ? "red" : level === "warning" ? "orange" : undefined} />
        <DocLink doc="retained-wal" />
      </div>
      <Figure label="wal_status" value={wal.slot_exists ? wal.wal_status ?? "–" : "no slot"} testId="wal-status" />
      <Figure label="Slot in use" value={wal.slot_active == null ? "–" : wal.slot_active ? `yes (pid ${wal.active_pid})` : "no"} />
      <Figure label="Not yet confirmed" value={formatBytes(wal.lag_bytes)} />
      <Figure label="Until the source drops it" value={wal.safe_wal_size != null ? formatBytes(wal.safe_wal_size)
        : keep === "-1" ? "unlimited (max_slot_wal_keep_size not set)" : "–"} />
      <Figure label="Free disk on the source" value={wal.free_disk_bytes != null ? formatBytes(wal.free_disk_bytes)
        : "unknown"} testId="wal-free-disk" />
      <Figure label="Warning at" value={formatBytes(wal.warning_bytes)} />
      <Figure label="Critical at" value={formatBytes(wal.critical_bytes)} />
      {wal.free_disk_bytes == null && wal.disk_note && <Text size="xs" c="dimmed">{wal.disk_note}</Text>}
      {wal.error && <Text size="xs" c="red">{wal.error}</Text>}
    </SimpleGrid>
  );
}

function Thresholds({ pipeline, onSaved }: { pipeline: Pipeline; onSaved: () => void }) {
  const [warning, setWarning] = useState<number | string>(Math.round(pipeline.wal_warning_bytes / MIB));
  const [critical, setCritical] = useState<number | string>(Math.round(pipeline.wal_critical_bytes / MIB));
  const [error, setError] = useState<unknown>(null);
  const [saving, setSaving] = useState(false);
  const save = async () => {
    setSaving(true);
    try {
      await pipelinesApi.update(pipeline.id, { wal_warning_bytes: Number(warning) * MIB,
        wal_critical_bytes: Number(critical) * MIB });
      setError(null);
      onSaved();
    } catch (err) { setError(err); } finally { setSaving(false); }
  };
  return (
    <Stack gap={4}>
      <Group align="end">
        <NumberInput label="Warning (MiB)" size="xs" min={1} value={warning} onChange={setWarning} w={140}
          data-testid="wal-warning-input" />
        <NumberInput label="Critical (MiB)" size="xs" min={2} value={critical} onChange={setCritical} w={140}
          data-testid="wal-critical-input" />
        <Button size="xs" variant="light" loading={saving} onClick={() => void save()} data-testid="wal-save">
          Save thresholds</Button>
      </Group>
      <ErrorText error={error} />
    </Stack>
  );
}

export default function HealthPanel({ pipeline, status, canEdit, onChanged }: {
  pipeline: Pipeline; status: PipelineStatusView; canEdit: boolean; onChanged: () => void;
}) {
  return (
    <Card withBorder data-testid="health-panel">
      <Group justify="space-between" mb="xs">
        <Title order={4}>Health <HealthBadge value={status.health} testId="pipeline-health" /></Title>
        {status.observed_at && <Text size="xs" c="dimmed">observed {new Date(status.observed_at).toLocaleTimeString()}</Text>}
      </Group>
      {status.problems.length > 0 && (
        <Table data-testid="problems" mb="sm">
          <Table.Tbody>
            {status.problems.map((p) => (
              <Table.Tr key={p.code} data-testid={`problem-${p.component}`}>
                <Table.Td w={110}><Badge color={HEALTH_COLORS[p.severity]}>{p.component}</Badge></Table.Td>
                <Table.Td>
                  <Text size="sm">{p.message}</Text>
                  <Text size="xs" c="dimmed">What to do: {p.action}</Text>
                  {p.actions?.includes("reset") && <Badge color="red" variant="outline" mt={4}>reset needed</Badge>}
                </Table.Td>
                <Table.Td w={170}><Text size="xs" c="dimmed">since {new Date(p.since).toLocaleString()}</Text></Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
      {status.wal && <WalFiguresView wal={status.wal} />}
      {canEdit && status.wal && <Thresholds key={pipeline.updated_at} pipeline={pipeline} onSaved={onChanged} />}
    </Card>
  );
}
