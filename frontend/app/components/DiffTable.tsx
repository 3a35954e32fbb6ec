"use client";
// Before and after side by side; the columns a change touched are highlighted.
import { Table, Text } from "@mantine/core";

import { diffRows, show } from "@/lib/diff";

export default function DiffTable({ before, after, testId }: { before: unknown; after: unknown; testId?: string }) {
  const rows = diffRows(before, after);
  if (!rows.length) return <Text size="sm" c="dimmed">No row values in this event.</Text>;
  return (
    <Table withTableBorder fz="xs" data-testid={testId} layout="fixed">
      <Table.Thead><Table.Tr><Table.Th w="24%">Column</Table.Th><Table.Th>Before</Table.Th><Table.Th>After</Table.Th>
      </Table.Tr></Table.Thead>
      <Table.Tbody>{rows.map((r) => (
        <Table.Tr key={r.column} data-testid={`diff-${r.column}`} data-changed={r.changed || undefined}
          style={r.changed ? { background: "var(--mantine-color-yellow-light)" } : undefined}>
          <Table.Td fw={r.changed ? 700 : 400}>{r.column}</Table.Td>
          <Table.Td style={{ wordBreak: "break-all" }} data-testid="before">{show(r.before)}</Table.Td>
          <Table.Td style={{ wordBreak: "break-all" }} data-testid="after">{show(r.after)}</Table.Td>
        </Table.Tr>))}
      </Table.Tbody>
    </Table>
  );
}
