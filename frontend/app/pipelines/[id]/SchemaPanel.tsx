"use client";
// The schema change policy (editable in any state) and the schema changes seen on the source, live.
import { Badge, Card, Checkbox, Code, Group, Select, Stack, Table, Text, Title } from "@mantine/core";
import { useCallback, useEffect, useState } from "react";

import ErrorText from "@/app/components/ErrorText";
import { recoveryApi, type Pipeline, type SchemaChange, type SchemaChangePolicy } from "@/lib/api/endpoints";
import { POLICY_LABELS } from "@/lib/recovery";
import { listen } from "@/lib/websocket/client";

const OUTCOME_COLOR: Record<string, string> = { APPLIED: "green", NO_TARGET_CHANGE: "gray", PAUSED: "orange" };

export default function SchemaPanel({ pipeline, canEdit, onChanged }: {
  pipeline: Pipeline; canEdit: boolean; onChanged: () => void;
}) {
  // Not followed for these databases yet: say so instead of offering a policy that is never applied.
  const gap = pipeline.unavailable_actions?.schema_change_policy;
  const [changes, setChanges] = useState<SchemaChange[]>([]);
  const [error, setError] = useState<unknown>(null);
  const load = useCallback(() => {
    recoveryApi.schemaChanges(pipeline.id).then(setChanges).catch(setError);
  }, [pipeline.id]);
  useEffect(() => { load(); }, [load, pipeline.updated_at]);
  useEffect(() => listen({ onSchemaChange: (c) => { if (c.pipeline_id === pipeline.id) load(); } }), [pipeline.id, load]);
  const save = async (policy: SchemaChangePolicy, dropRemoved: boolean) => {
    setError(null);
    try {
      await recoveryApi.setPolicy(pipeline.id, { schema_change_policy: policy, drop_removed_columns: dropRemoved });
      onChanged();
    } catch (err) { setError(err); }
  };
  return (
    <Card withBorder data-testid="schema-panel">
      <Title order={4} mb="xs">Schema changes</Title>
      {gap ? <Text size="sm" c="dimmed" mb="sm" data-testid="schema-policy-unavailable">{gap}</Text> : (
      <Group align="flex-end" mb="sm">
        <Select label="When a captured table's definition changes" w={460} disabled={!canEdit} data-testid="schema-policy"
          data={Object.entries(POLICY_LABELS).map(([value, label]) => ({ value, label }))}
          value={pipeline.schema_change_policy} allowDeselect={false}
          onChange={(v) => v && void save(v as SchemaChangePolicy, pipeline.drop_removed_columns)} />
        <Checkbox label="Drop columns dropped on the source from the target too" disabled={!canEdit}
          checked={pipeline.drop_removed_columns} data-testid="drop-removed-columns"
          onChange={(e) => void save(pipeline.schema_change_policy, e.currentTarget.checked)} />
      </Group>)}
      <ErrorText error={error} />
      {changes.length === 0 ? <Text size="sm" c="dimmed">No schema change seen yet.</Text> : (
        <Table data-testid="schema-changes">
          <Table.Thead><Table.Tr><Table.Th>When</Table.Th><Table.Th>Table</Table.Th><Table.Th>Outcome</Table.Th>
            <Table.Th>Changes and what ran on the target</Table.Th></Table.Tr></Table.Thead>
          <Table.Tbody>
            {changes.map((c) => (
              <Table.Tr key={c.id}>
                <Table.Td><Text size="xs">{c.created_at?.slice(0, 19).replace("T", " ")}</Text></Table.Td>
                <Table.Td>{c.table_name}</Table.Td>
                <Table.Td><Badge color={OUTCOME_COLOR[c.outcome] ?? "gray"}>{c.outcome}</Badge></Table.Td>
                <Table.Td>
                  <Stack gap={2}>
                    {c.changes.map((ch, i) => <Text size="sm" key={i}>{String(ch.message)}</Text>)}
                    {c.applied.map((ddl) => <Code key={ddl}>{ddl}</Code>)}
                  </Stack>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </Card>
  );
}
