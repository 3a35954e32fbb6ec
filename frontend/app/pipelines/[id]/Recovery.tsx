"use client";
// For a pipeline in ERROR or PAUSED: what happened, what to do next, and the buttons for it (restart failed tasks,
// resume after reviewing a schema change, reset with a typed confirmation).
import { Alert, Button, Code, Group, List, Modal, Stack, Text, TextInput } from "@mantine/core";
import { useState } from "react";

import ErrorText from "@/app/components/ErrorText";
import { pipelinesApi, recoveryApi, type Pipeline, type PipelineStatusView } from "@/lib/api/endpoints";
import { ACTION_LABELS, recoveryHint } from "@/lib/recovery";

export function RestartFailedButton({ pipelineId, onDone }: { pipelineId: string; onDone: () => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const restart = async () => {
    setBusy(true);
    setError(null);
    try { await recoveryApi.restart(pipelineId, true); onDone(); } catch (err) { setError(err); } finally { setBusy(false); }
  };
  return (
    <>
      <Button size="xs" color="orange" loading={busy} onClick={() => void restart()} data-testid="restart-failed">
        {ACTION_LABELS.restart_failed}
      </Button>
      <ErrorText error={error} />
    </>
  );
}

export function ResetButton({ pipeline, onDone }: { pipeline: Pipeline; onDone: () => void }) {
  const [open, setOpen] = useState(false);
  const [typed, setTyped] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const reset = async () => {
    setBusy(true);
    setError(null);
    try {
      await recoveryApi.reset(pipeline.id, typed);
      setOpen(false);
      onDone();
    } catch (err) { setError(err); } finally { setBusy(false); }
  };
  return (
    <>
      <Button size="xs" variant="light" color="red" onClick={() => { setTyped(""); setOpen(true); }} data-testid="action-reset">
        {ACTION_LABELS.reset}
      </Button>
      <Modal opened={open} onClose={() => setOpen(false)} title="Reset this pipeline?">
        <Stack>
          <Text size="sm">Both connectors stop, the replication slot and the connector offsets are dropped, the target
            tables are emptied, and a fresh full load starts. Changes already in Kafka are never applied again.</Text>
          <TextInput label={`Type ${pipeline.name} to confirm`} value={typed} data-testid="reset-confirm-input"
            onChange={(e) => setTyped(e.target.value)} />
          <ErrorText error={error} />
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setOpen(false)}>Cancel</Button>
            <Button color="red" loading={busy} disabled={typed !== pipeline.name} onClick={() => void reset()}
              data-testid="reset-confirm">Reset</Button>
          </Group>
        </Stack>
      </Modal>
    </>
  );
}

export default function Recovery({ pipeline, status, canOperate, onDone }: {
  pipeline: Pipeline; status: PipelineStatusView; canOperate: boolean; onDone: () => void;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const hint = recoveryHint(status);
  if (!hint) return null;
  const actions = status.available_actions ?? [];
  const resume = async () => {
    setBusy(true);
    setError(null);
    try { await pipelinesApi.action(pipeline.id, "resume"); onDone(); } catch (err) { setError(err); } finally { setBusy(false); }
  };
  return (
    <Alert color={status.status === "ERROR" ? "red" : "yellow"} title={status.status === "ERROR" ? "The pipeline is in error"
      : "The pipeline is paused"} data-testid="recovery">
      <Stack gap="xs">
        <Text size="sm">{hint}</Text>
        {(status.schema_pending ?? []).length > 0 && (
          <List size="sm" data-testid="schema-pending">
            {(status.schema_pending ?? []).map((c, i) => (
              <List.Item key={i}><b>{String(c.table)}</b>: {String(c.message)}
                {((c.ddl as string[]) ?? []).map((ddl) => <Code block key={ddl} mt={4}>{ddl}</Code>)}
              </List.Item>
            ))}
          </List>
        )}
        {canOperate && (
          <Group gap="xs">
            {actions.includes("restart_failed") && <RestartFailedButton pipelineId={pipeline.id} onDone={onDone} />}
            {actions.includes("resume") && <Button size="xs" loading={busy} onClick={() => void resume()}
              data-testid="recovery-resume">{ACTION_LABELS.resume}</Button>}
            {actions.includes("reset") && <ResetButton pipeline={pipeline} onDone={onDone} />}
          </Group>
        )}
        <ErrorText error={error} />
      </Stack>
    </Alert>
  );
}
