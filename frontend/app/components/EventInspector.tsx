"use client";
// One change event in full: before/after side by side, where it came from (LSN, transaction) and where it went
// (Kafka topic/partition/offset), its timings, and copy buttons for each.
import { Badge, Drawer, Group, Stack, Table, Text } from "@mantine/core";

import CopyButton from "@/app/components/CopyButton";
import DiffTable from "@/app/components/DiffTable";
import type { CdcEvent } from "@/lib/api/endpoints";
import { normalizeEventType } from "@/lib/opcodes";

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

export default function EventInspector({ event, onClose }: { event: CdcEvent | null; onClose: () => void }) {
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
          <DiffTable before={event.before} after={event.after} testId="inspector-diff" />
          <Table>
            <Table.Tbody>
              <Field label="Event id" value={event.id} testId="inspector-id" />
              <Field label="Source LSN" value={event.source_lsn} testId="inspector-lsn" />
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
