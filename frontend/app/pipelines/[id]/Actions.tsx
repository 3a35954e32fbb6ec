"use client";
import { Button, Group, Modal, Text } from "@mantine/core";
import { useRouter } from "next/navigation";
import { useState } from "react";

import ErrorText from "@/app/components/ErrorText";
import { canManage } from "@/lib/access";
import { pipelinesApi, type Pipeline } from "@/lib/api/endpoints";

type Action = "start" | "stop" | "pause" | "resume" | "delete";
const CONFIRM: Record<Action, string> = {
  start: "Start this pipeline? A full load copies the selected tables first (unless already done).",
  stop: "Stop both connectors? Offsets and the replication slot are kept; a later start resumes.",
  pause: "Pause both connectors? Changes accumulate in the source WAL until you resume.",
  resume: "Resume both connectors?",
  delete: "Delete this pipeline? Its connectors, replication slot, publication and topics are removed.",
};

export default function Actions({ pipeline, onDone }: { pipeline: Pipeline; onDone: () => void }) {
  const router = useRouter();
  const [pending, setPending] = useState<Action | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  // What the status allows comes from the server's lifecycle table; deleting also needs manage access (operate,
  // when granted, starts and stops only).
  const allowed = (a: Action) => pipeline.allowed_actions.includes(a) && (a !== "delete" || canManage(pipeline.access));
  const run = async (action: Action) => {
    setBusy(true);
    setError(null);
    try {
      if (action === "delete") {
        await pipelinesApi.remove(pipeline.id);
        router.push("/pipelines");
      } else {
        await pipelinesApi.action(pipeline.id, action);
        onDone();
      }
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
      setPending(null);
    }
  };
  return (
    <>
      <Group gap="xs">
        {(Object.keys(CONFIRM) as Action[]).filter(allowed).map((a) => (
          <Button key={a} size="xs" variant={a === "delete" ? "subtle" : "light"} color={a === "delete" ? "red" : undefined}
            data-testid={`action-${a}`} onClick={() => setPending(a)}>
            {a[0].toUpperCase() + a.slice(1)}
          </Button>
        ))}
      </Group>
      <ErrorText error={error} />
      <Modal opened={pending !== null} onClose={() => setPending(null)} title="Please confirm">
        <Text>{pending && CONFIRM[pending]}</Text>
        <Group justify="flex-end" mt="md">
          <Button variant="default" onClick={() => setPending(null)}>Cancel</Button>
          <Button data-testid="confirm" loading={busy} color={pending === "delete" ? "red" : undefined}
            onClick={() => pending && void run(pending)}>Confirm</Button>
        </Group>
      </Modal>
    </>
  );
}
