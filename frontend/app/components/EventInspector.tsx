"use client";
// One change event in full: before/after side by side, where it came from (LSN, transaction) and where it went
// (Kafka topic/partition/offset), its timings, and copy buttons for each.
import { Anchor, Badge, Drawer, Group, Stack, Table, Text } from "@mantine/core";
import Link from "next/link";

import CopyButton from "@/app/components/CopyButton";
import DiffTable from "@/app/components/DiffTable";
import type { CdcEvent } from "@/lib/api/endpoints";
import { formatLsn } from "@/lib/lsn";
import { normalizeEventType } from "@/lib/opcodes";

/** The pipeline page's row history for this event's row (its table and key go in the URL, which that panel reads). */
export function rowHistoryHref(event: CdcEvent): string | null {
  if (!event.table_name || event.primary_key == null) return null;
  const q = new URLSearchParams({ history_table: event.table_name, history_key: JSON.stringify(event.primary_key) });
  return `/pipelines/${event.pipeline_id}?${q}#row-history`;
}

/** Told to the row history panel when the link is followed on its own page (the page stays mounted). */
export const ROW_HISTORY_EVENT = "cdcflow:row-history";

function Field({ label, value, testId }: { label: string; value: unknown; testId: string }) {
  const text = value == null || value === "" ? "–" : String(value);
  return (
    <Table.Tr>
      <Table.Td w={170}><Text size="xs" c="dimmed">{label}</Text></Table.Td>
      <Table.Td><Group gap={4} wrap="nowrap"><Text size="sm" data-testid={testId}>{text}</Text>
        {text !== "–" && <CopyButton value={text} label={label} />}</Group></Table.Td>
    </Table.Tr>
  );
}

export default function EventInspector({ event, onClose, pipelineName }: { event: CdcEvent | null;
  onClose: () => void; pipelineName?: string }) {
  const history = event ? rowHistoryHref(event) : null;
  const sourceTime = event?.source_ts_ms != null ? new Date(event.source_ts_ms) : null;
  return (
    <Drawer opened={event !== null} onClose={onClose} position="right" size="xl" title="Change event"
      data-testid="event-inspector">
      {event && (
        <Stack gap="sm" data-testid="inspector-body">
          <Group gap="xs">
            <Badge>{normalizeEventType(event.event_type ?? event.op)}</Badge>
            <Text fw={600}>{event.table_name}</Text>
            <Text size="sm" c="dimmed">key {JSON.stringify(event.primary_key)}</Text>
            <CopyButton value={JSON.stringify({ before: event.before, after: event.after }, null, 2)} label="row values" />
          </Group>
          <Group gap="md">
            {pipelineName && <Text size="sm" data-testid="inspector-pipeline">Pipeline: {pipelineName}</Text>}
            {history && <Anchor component={Link} href={history} size="sm" data-testid="inspector-row-history"
              onClick={() => {
                onClose();
                window.dispatchEvent(new CustomEvent(ROW_HISTORY_EVENT, {
                  detail: { table: event.table_name, key: JSON.stringify(event.primary_key) } }));
              }}>Row history of this row</Anchor>}
          </Group>
          <DiffTable before={event.before} after={event.after} testId="inspector-diff" />
          <Table>
            <Table.Tbody>
              <Field label="Event id" value={event.id} testId="inspector-id" />
              <Field label="Source LSN" value={event.source_lsn == null ? null : formatLsn(event.source_lsn)}
                testId="inspector-lsn" />
              <Field label="Transaction id" value={event.tx_id} testId="inspector-tx" />
              <Field label="Kafka topic" value={event.kafka_topic} testId="inspector-topic" />
              <Field label="Partition / offset" value={`${event.kafka_partition} / ${event.kafka_offset}`}
                testId="inspector-offset" />
              <Field label="Committed at source" value={sourceTime ? `${sourceTime.toISOString()} (UTC)` : null}
                testId="inspector-source-ts" />
              <Field label="Stored by cdcflow" value={`${new Date(event.created_at).toISOString()} (UTC)`}
                testId="inspector-stored" />
              <Field label="Source commit → stored" value={event.latency_ms != null ? `${event.latency_ms} ms` : null}
                testId="inspector-latency" />
            </Table.Tbody>
          </Table>
        </Stack>
      )}
    </Drawer>
  );
}
