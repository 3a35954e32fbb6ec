"use client";
import { Alert, Button, Checkbox, Group, Radio, Select, Stack, Stepper, Table, Text, TextInput, Title } from "@mantine/core";
import { useRouter } from "next/navigation";
import { useEffect, useMemo, useState } from "react";

import ErrorText from "@/app/components/ErrorText";
import { canOperate } from "@/lib/access";
import { connectionsApi, pipelinesApi, type PipelineMode, type SchemaChangePolicy, type TableInfo }
  from "@/lib/api/endpoints";
import { POLICY_LABELS } from "@/lib/recovery";
import { useAppDispatch, useAppSelector } from "@/lib/store/hooks";
import { fetchConnections } from "@/lib/store/slices/connectionSlice";

const MODES: { value: PipelineMode; label: string }[] = [
  { value: "full_load_and_cdc", label: "Full load, then stream changes (CDC)" },
  { value: "full_load_only", label: "Full load only" },
  { value: "cdc_only", label: "Stream changes only (CDC)" },
];

export default function NewPipelinePage() {
  const dispatch = useAppDispatch();
  const router = useRouter();
  const connections = useAppSelector((s) => s.connections.items);
  const [step, setStep] = useState(0);
  const [name, setName] = useState("");
  const [source, setSource] = useState<string | null>(null);
  const [target, setTarget] = useState<string | null>(null);
  const [tables, setTables] = useState<TableInfo[]>([]);
  const [selected, setSelected] = useState<string[]>([]);
  const [mode, setMode] = useState<PipelineMode>("full_load_and_cdc");
  const [policy, setPolicy] = useState<SchemaChangePolicy>("propagate");
  const [dropRemoved, setDropRemoved] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => { void dispatch(fetchConnections()); }, [dispatch]);
  useEffect(() => {
    if (!source) return;
    setTables([]);
    connectionsApi.tables(source).then(setTables).catch(setError);
  }, [source]);
  const key = (t: TableInfo) => `${t.schema}.${t.table}`;
  const chosen = useMemo(() => tables.filter((t) => selected.includes(key(t))), [tables, selected]);

  const create = async (start: boolean) => {
    setBusy(true);
    setError(null);
    try {
      const p = await pipelinesApi.create({ name, source_connection_id: source!, target_connection_id: target!, mode,
        tables: selected, schema_change_policy: policy, drop_removed_columns: dropRemoved });
      if (start) await pipelinesApi.action(p.id, "start");
      router.push(`/pipelines/${p.id}`);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  const pick = (kind: "source" | "target") =>
    // Building on a connection needs operate access to it; view-only ones are not offered.
    connections.filter((c) => c.connection_type === kind && canOperate(c.access))
      .map((c) => ({ value: c.id, label: c.name }));
  return (
    <Stack>
      <Title order={2}>New pipeline</Title>
      <Stepper active={step} onStepClick={setStep} allowNextStepsSelect={false}>
        <Stepper.Step label="Connections">
          <Stack maw={480}>
            <TextInput label="Pipeline name" name="pipeline-name" value={name} onChange={(e) => setName(e.target.value)} />
            <Select label="Source" data-testid="source-select" data={pick("source")} value={source} onChange={setSource} />
            <Select label="Target" data-testid="target-select" data={pick("target")} value={target} onChange={setTarget} />
          </Stack>
        </Stepper.Step>
        <Stepper.Step label="Tables">
          <Table withTableBorder data-testid="tables-picker">
            <Table.Thead><Table.Tr><Table.Th /><Table.Th>Table</Table.Th><Table.Th>Estimated rows</Table.Th>
              <Table.Th>Primary key</Table.Th><Table.Th>Replica identity</Table.Th></Table.Tr></Table.Thead>
            <Table.Tbody>
              {tables.map((t) => (
                <Table.Tr key={key(t)}>
                  <Table.Td>
                    <Checkbox aria-label={key(t)} data-testid={`pick-${key(t)}`} checked={selected.includes(key(t))}
                      onChange={(e) => setSelected((s) => e.target.checked ? [...s, key(t)] : s.filter((x) => x !== key(t)))} />
                  </Table.Td>
                  <Table.Td>{key(t)}</Table.Td>
                  <Table.Td>{t.estimated_rows.toLocaleString()}</Table.Td>
                  <Table.Td>{t.primary_key.length ? t.primary_key.join(", ") : <Text c="red" size="sm">none: cannot replicate</Text>}</Table.Td>
                  <Table.Td>{t.replica_identity === "full" ? "full" : <Text size="sm" c="orange">{t.replica_identity} (set to FULL at start)</Text>}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Stepper.Step>
        <Stepper.Step label="Mode">
          <Stack>
            <Radio.Group value={mode} onChange={(v) => setMode(v as PipelineMode)}>
              <Stack>{MODES.map((m) => <Radio key={m.value} value={m.value} label={m.label} />)}</Stack>
            </Radio.Group>
            <Select label="When a table's definition changes on the source" maw={560} data-testid="wizard-schema-policy"
              data={Object.entries(POLICY_LABELS).map(([value, label]) => ({ value, label }))} value={policy}
              allowDeselect={false} onChange={(v) => v && setPolicy(v as SchemaChangePolicy)} />
            <Checkbox label="Drop columns dropped on the source from the target too (default: keep them, nullable)"
              checked={dropRemoved} onChange={(e) => setDropRemoved(e.currentTarget.checked)} />
          </Stack>
        </Stepper.Step>
        <Stepper.Step label="Review">
          <Stack gap="xs" data-testid="review">
            <Text><b>{name}</b>: {connections.find((c) => c.id === source)?.name} →{" "}
              {connections.find((c) => c.id === target)?.name}, {MODES.find((m) => m.value === mode)?.label}</Text>
            <Text size="sm">Schema changes: {POLICY_LABELS[policy]}{dropRemoved ? "; dropped columns are dropped" : ""}</Text>
            <Text size="sm">{selected.join(", ")}</Text>
            {chosen.some((t) => !t.primary_key.length) &&
              <Alert color="red">Tables without a primary key cannot be replicated.</Alert>}
          </Stack>
        </Stepper.Step>
      </Stepper>
      <ErrorText error={error} />
      <Group>
        {step > 0 && <Button variant="default" onClick={() => setStep(step - 1)}>Back</Button>}
        {step < 3 && (
          <Button onClick={() => setStep(step + 1)}
            disabled={(step === 0 && (!name || !source || !target)) || (step === 1 && !selected.length)}>Next</Button>
        )}
        {step === 3 && <>
          <Button variant="default" loading={busy} onClick={() => void create(false)}>Create</Button>
          <Button loading={busy} onClick={() => void create(true)}>Create and start</Button>
        </>}
      </Group>
    </Stack>
  );
}
