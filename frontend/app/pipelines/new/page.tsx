"use client";
import { Alert, Anchor, Button, Checkbox, Group, Radio, Select, Stack, Stepper, Switch, Table, Text, TextInput, Title }
  from "@mantine/core";
import { useRouter, useSearchParams } from "next/navigation";
import { Suspense, useEffect, useMemo, useRef, useState } from "react";

import DocLink from "@/app/components/DocLink";
import ErrorText from "@/app/components/ErrorText";
import { TableSkeleton } from "@/app/components/Skeleton";
import TestResult from "@/app/components/TestResult";
import { canOperate } from "@/lib/access";
import { connectionsApi, pipelinesApi, type ConnectionTestResult, type PipelineMode, type SchemaChangePolicy,
  type TableInfo } from "@/lib/api/endpoints";
import { databaseLabel } from "@/lib/databases";
import { POLICY_LABELS } from "@/lib/recovery";
import { useAppDispatch, useAppSelector } from "@/lib/store/hooks";
import { fetchConnections } from "@/lib/store/slices/connectionSlice";
import { loadSavedWizard, saveWizard, wizardChanged, wizardReset } from "@/lib/store/slices/wizardSlice";
import { matching, pickable } from "@/lib/tables";
import { nameError } from "@/lib/validation";

const MODES: { value: PipelineMode; label: string; description: string }[] = [
  { value: "full_load_and_cdc", label: "Full load, then stream changes (CDC)",
    description: "Copies every row of the tables to the target, then keeps it in sync with each insert, update and " +
      "delete. The usual choice." },
  { value: "full_load_only", label: "Full load only",
    description: "A one-off copy of the tables; the pipeline completes when it is done. No replication slot is kept." },
  { value: "cdc_only", label: "Stream changes only (CDC)",
    description: "Only changes made after Start reach the target; existing rows are not copied." },
];
const LAST = 3;
const STEP_TITLES = ["Step 1 of 4: connections and name", "Step 2 of 4: tables", "Step 3 of 4: mode",
  "Step 4 of 4: review and preflight"];
const stepOf = (raw: string | null) => Math.max(0, Math.min(LAST, Number(raw ?? 0) || 0));

function Wizard() {
  const dispatch = useAppDispatch();
  const router = useRouter();
  const params = useSearchParams();
  const role = useAppSelector((s) => s.auth.user?.role);
  const connections = useAppSelector((s) => s.connections.items);
  const wizard = useAppSelector((s) => s.wizard);
  const { name, source, target, selected, mode, policy, dropRemoved } = wizard;
  const [restored, setRestored] = useState(false);
  useEffect(() => {
    const saved = loadSavedWizard();
    if (saved && !wizard.name && !wizard.source) dispatch(wizardChanged(saved));
    setRestored(true);
  // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
  useEffect(() => { if (restored) saveWizard(wizard); }, [restored, wizard]);
  const set = (change: Parameters<typeof wizardChanged>[0]) => dispatch(wizardChanged(change));
  const [tables, setTables] = useState<TableInfo[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [tried, setTried] = useState<number | null>(null);
  useEffect(() => { void dispatch(fetchConnections()); }, [dispatch]);
  useEffect(() => {
    if (!source) return;
    setTables(null);
    connectionsApi.tables(source).then(setTables).catch(setError);
  }, [source]);
  const key = (t: TableInfo) => `${t.schema}.${t.table}`;
  const [search, setSearch] = useState("");
  const [everySchema, setEverySchema] = useState(false);
  const chosen = useMemo(() => (tables ?? []).filter((t) => selected.includes(key(t))), [tables, selected]);

  // What keeps each step from being done, in words, shown under the fields.
  const stepErrors: Record<string, string | null>[] = [
    { name: nameError(name, "Pipeline name"), source: source ? null : "Pick the source connection",
      target: !target ? "Pick the target connection" : target === source ? "Target must differ from the source" : null },
    { tables: !selected.length ? "Pick at least one table"
      : chosen.some((t) => !t.primary_key.length) ? "Tables without a primary key cannot be replicated: untick them"
        : null },
    {},
    {},
  ];
  const firstInvalid = stepErrors.findIndex((e) => Object.values(e).some(Boolean));
  const furthest = firstInvalid < 0 ? LAST : firstInvalid;
  // The step lives in the URL, so browser Back and Forward move between steps; a step that is not reachable yet
  // (a shared or stale link) shows the first one that needs an answer. The page's state changes at once and the
  // URL follows with a plain pushState (a router navigation is async: quick clicks would read a stale step).
  const [asked, setAsked] = useState(() => stepOf(params.get("step")));
  useEffect(() => {
    const onPop = () => setAsked(stepOf(new URLSearchParams(window.location.search).get("step")));
    window.addEventListener("popstate", onPop);
    return () => window.removeEventListener("popstate", onPop);
  }, []);
  const step = Math.min(asked, furthest);
  useEffect(() => {
    if (firstRender.current) { firstRender.current = false; return; }
    heading.current?.focus();
  }, [step]);
  // The review step runs both connections' Test (the source with the picked tables): the same preflight checks as
  // on the connections page, for whichever database each one is.
  const [preflight, setPreflight] = useState<Record<"source" | "target", ConnectionTestResult | "testing" | null>>(
    { source: null, target: null });
  const picked = selected.join(",");
  useEffect(() => {
    if (step !== LAST || !source || !target) return;
    let live = true;
    for (const [kind, id, tables] of [["source", source, picked ? picked.split(",") : []], ["target", target, []]] as
      const) {
      setPreflight((p) => ({ ...p, [kind]: "testing" }));
      connectionsApi.test(id, [...tables])
        .then((r) => { if (live) setPreflight((p) => ({ ...p, [kind]: r })); })
        .catch((err) => { if (live) { setPreflight((p) => ({ ...p, [kind]: null })); setError(err); } });
    }
    return () => { live = false; };
  }, [step, source, target, picked]);
  const sourceConnection = connections.find((c) => c.id === source);
  const mariadbSource = sourceConnection?.database_type === "mariadb";
  // Schema changes are followed between PostgreSQL databases only (the API says the same on the pipeline).
  const mariadbInvolved = mariadbSource || connections.find((c) => c.id === target)?.database_type === "mariadb";
  // The connection's schema unless asked for every one; cdcflow's own schema never.
  // A restored draft (or Back) with tables from other schemas picked keeps showing them.
  const pickedElsewhere = !!sourceConnection && selected.some((k) => !k.startsWith(`${sourceConnection.schema}.`));
  const showEvery = everySchema || pickedElsewhere;
  const inSchema = pickable(tables ?? [], sourceConnection?.schema, showEvery);
  const shownTables = matching(inSchema, search);
  const otherSchemas = (tables ?? []).some((t) => !pickable([t], sourceConnection?.schema, false).length
    && pickable([t], undefined, true).length);
  const selectable = shownTables.filter((t) => t.primary_key.length).map(key);
  const allShownPicked = selectable.length > 0 && selectable.every((k) => selected.includes(k));
  const toggleShown = (on: boolean) => set({ selected: on ? [...new Set([...selected, ...selectable])]
    : selected.filter((k) => !selectable.includes(k)) });
  // Each new step takes the focus, so keyboard and screen reader users land on it (not on the button they left).
  const heading = useRef<HTMLHeadingElement>(null);
  const firstRender = useRef(true);
  const goTo = (n: number) => {
    setAsked(n);
    window.history.pushState(null, "", `/pipelines/new?step=${n}`);
  };
  const next = () => {
    setTried(step);
    if (step < furthest) goTo(step + 1);
  };
  const shown = (s: number, field: string) => {
    const message = stepErrors[s][field];
    if (!message) return null;
    // Name errors show as one types; "pick ..." only after trying to go on.
    return tried !== null && tried >= s ? message : field === "name" && name ? message : null;
  };

  if (role === "viewer") {
    return (
      <Stack data-testid="wizard-forbidden">
        <Title order={2}>New pipeline</Title>
        <Alert color="yellow">Viewers cannot create pipelines. Ask an admin for the operator role.</Alert>
        <Anchor href="/pipelines">Back to pipelines</Anchor>
      </Stack>
    );
  }
  const create = async (start: boolean) => {
    setBusy(true);
    setError(null);
    try {
      const p = await pipelinesApi.create({ name, source_connection_id: source!, target_connection_id: target!, mode,
        tables: selected, schema_change_policy: policy, drop_removed_columns: dropRemoved });
      if (start) await pipelinesApi.action(p.id, "start");
      dispatch(wizardReset());
      saveWizard(null);
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
  const tableError = shown(1, "tables");
  return (
    <Stack>
      <Title order={2}>New pipeline</Title>
      <Title order={3} size="h5" ref={heading} tabIndex={-1} data-testid="step-heading"
        style={{ outline: "none" }}>{STEP_TITLES[step]}</Title>
      <Stepper active={step} onStepClick={(n) => n < step && goTo(n)} allowNextStepsSelect={false}>
        <Stepper.Step label="Connections">
          <Stack maw={480}>
            <TextInput label="Pipeline name" name="pipeline-name" value={name} error={shown(0, "name")}
              description="Letters, digits, spaces and _ . -; up to 100 characters"
              onChange={(e) => set({ name: e.target.value })} />
            <Select label="Source" data-testid="source-select" data={pick("source")} value={source}
              error={shown(0, "source")} onChange={(v) => set({ source: v })} />
            <Select label="Target" data-testid="target-select" data={pick("target")} value={target}
              error={shown(0, "target")} onChange={(v) => set({ target: v })} />
          </Stack>
        </Stepper.Step>
        <Stepper.Step label="Tables">
          {tables === null ? <TableSkeleton /> : (
            <Stack gap="xs">
              <Group align="flex-end">
                <TextInput label="Search tables" placeholder="orders" value={search} w={300} data-testid="table-search"
                  onChange={(e) => setSearch(e.currentTarget.value)} />
                {otherSchemas && <Switch data-testid="every-schema" checked={showEvery} disabled={pickedElsewhere}
                  label={`Every schema (the connection's schema is ${sourceConnection?.schema})`}
                  onChange={(e) => setEverySchema(e.currentTarget.checked)} />}
              </Group>
              <Table withTableBorder data-testid="tables-picker">
                <Table.Thead><Table.Tr>
                  <Table.Th><Checkbox aria-label="Select every table shown" data-testid="select-all"
                    checked={allShownPicked} disabled={!selectable.length}
                    indeterminate={!allShownPicked && selectable.some((k) => selected.includes(k))}
                    onChange={(e) => toggleShown(e.currentTarget.checked)} /></Table.Th>
                  <Table.Th>Table</Table.Th><Table.Th>Estimated rows</Table.Th>
                  <Table.Th>Primary key</Table.Th><Table.Th>{mariadbSource ? "Binlog row image" : "Replica identity"}</Table.Th>
                </Table.Tr></Table.Thead>
                <Table.Tbody>
                  {shownTables.map((t) => (
                    <Table.Tr key={key(t)} data-testid={`picker-row-${key(t)}`}>
                      <Table.Td>
                        <Checkbox aria-label={key(t)} data-testid={`pick-${key(t)}`} checked={selected.includes(key(t))}
                          onChange={(e) => set({ selected: e.target.checked ? [...selected, key(t)]
                            : selected.filter((x) => x !== key(t)) })} />
                      </Table.Td>
                      <Table.Td>{key(t)}</Table.Td>
                      <Table.Td>{t.estimated_rows.toLocaleString()}</Table.Td>
                      <Table.Td>{t.primary_key.length ? t.primary_key.join(", ")
                        : <Text c="red" size="sm">none: cannot replicate</Text>}</Table.Td>
                      <Table.Td>{t.replica_identity === "full" ? "full" : mariadbSource
                        ? <Text size="sm" c="red">{t.replica_identity} (the server needs binlog_row_image=FULL)</Text>
                        : <Text size="sm" c="orange">{t.replica_identity} (set to FULL at start)</Text>}</Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
              {shownTables.length === 0 && <Text size="sm" c="dimmed" data-testid="no-tables">
                No table {search ? `matches "${search}"` : "in this schema"}.</Text>}
              <Text size="xs" c="dimmed">{selected.length} selected</Text>
            </Stack>
          )}
          {tableError && <Text c="red" size="sm" mt="xs" role="alert">{tableError}</Text>}
          {mariadbSource ? (
            <Alert color="blue" mt="sm" data-testid="binlog-note" title="Changes come from MariaDB's binary log">
              A MariaDB source is read from its binary log, which must be on, in ROW format with FULL row images, so
              updates and deletes carry the whole old row. The review step checks the server and the user.
            </Alert>
          ) : (
            <Alert color="blue" mt="sm" data-testid="replica-identity-note" title="Start sets REPLICA IDENTITY FULL">
              Start runs <code>ALTER TABLE … REPLICA IDENTITY FULL</code> on each picked source table, so updates and
              deletes carry the whole old row (the target needs it to find and compare the row, and the event inspector
              shows it). It makes the source write a little more WAL per update.
            </Alert>
          )}
        </Stepper.Step>
        <Stepper.Step label="Mode">
          <Stack>
            <Radio.Group value={mode} onChange={(v) => set({ mode: v as PipelineMode })} label="Mode"
              description={<DocLink doc="modes" label="About the modes" />}>
              <Stack>{MODES.map((m) => <Radio key={m.value} value={m.value} label={m.label}
                description={m.description} />)}</Stack>
            </Radio.Group>
            {mariadbInvolved ? (
              <Alert color="gray" data-testid="wizard-schema-policy-unavailable" title="Schema changes">
                Schema changes are followed between PostgreSQL databases only for now: with MariaDB, a changed source
                table needs the target table changed by hand. Resync and adding or removing tables on a running
                pipeline are not available for MariaDB sources yet either.
              </Alert>
            ) : <>
              <Select label="When a table's definition changes on the source" maw={560} data-testid="wizard-schema-policy"
                data={Object.entries(POLICY_LABELS).map(([value, label]) => ({ value, label }))} value={policy}
                allowDeselect={false} onChange={(v) => v && set({ policy: v as SchemaChangePolicy })}
                description={<DocLink doc="schema-changes" label="About schema change policies" />} />
              <Checkbox label="Drop columns dropped on the source from the target too (default: keep them, nullable)"
                checked={dropRemoved} onChange={(e) => set({ dropRemoved: e.currentTarget.checked })} />
            </>}
          </Stack>
        </Stepper.Step>
        <Stepper.Step label="Review">
          <Stack gap="xs" data-testid="review">
            <Text><b>{name}</b>: {connections.find((c) => c.id === source)?.name} →{" "}
              {connections.find((c) => c.id === target)?.name}, {MODES.find((m) => m.value === mode)?.label}</Text>
            {!mariadbInvolved &&
              <Text size="sm">Schema changes: {POLICY_LABELS[policy]}{dropRemoved ? "; dropped columns are dropped" : ""}</Text>}
            <Text size="sm">{selected.join(", ")}</Text>
            <Title order={5} mt="sm">Preflight</Title>
            <Group align="flex-start" grow data-testid="preflight">
              {(["source", "target"] as const).map((kind) => {
                const c = connections.find((x) => x.id === (kind === "source" ? source : target));
                const result = preflight[kind];
                return (
                  <Stack key={kind} gap={4}>
                    <Text size="sm" fw={600}>{kind === "source" ? "Source" : "Target"}: {c?.name}
                      {c ? ` (${databaseLabel(c.database_type)})` : ""}</Text>
                    {result === "testing" ? <Text size="sm" c="dimmed">Checking…</Text>
                      : result && <TestResult result={result} databaseType={c?.database_type ?? "postgresql"}
                        testId={`preflight-${kind}`} />}
                  </Stack>
                );
              })}
            </Group>
          </Stack>
        </Stepper.Step>
      </Stepper>
      <ErrorText error={error} />
      <Group>
        {step > 0 && <Button variant="default" onClick={() => goTo(step - 1)}>Back</Button>}
        {step < LAST && <Button onClick={next}>Next</Button>}
        {step === LAST && <>
          <Button variant="default" loading={busy} onClick={() => void create(false)}>Create</Button>
          <Button loading={busy} onClick={() => void create(true)}>Create and start</Button>
        </>}
      </Group>
    </Stack>
  );
}

export default function NewPipelinePage() {
  return <Suspense fallback={<TableSkeleton />}><Wizard /></Suspense>;
}
