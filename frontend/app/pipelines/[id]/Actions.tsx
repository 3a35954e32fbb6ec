"use client";
// The lifecycle buttons the pipeline's status allows. Harmless ones (start, resume, pause) act at once; stop and
// delete say what will happen and ask first.
import { Button, Group, Text } from "@mantine/core";
import { useRouter } from "next/navigation";
import { useState } from "react";

import ConfirmDialog from "@/app/components/ConfirmDialog";
import ErrorText from "@/app/components/ErrorText";
import { canManage } from "@/lib/access";
import { pipelinesApi, type Pipeline } from "@/lib/api/endpoints";

type Action = "start" | "stop" | "pause" | "resume" | "delete";
const ORDER: Action[] = ["start", "resume", "pause", "stop", "delete"];
const CONFIRM: Partial<Record<Action, { title: string; text: string; label: string }>> = {
  stop: { title: "Stop this pipeline?", label: "Stop",
    text: "Both connectors stop and changes stop reaching the target. Offsets and the replication slot are kept: " +
      "a later start resumes where it stopped (the source keeps WAL for it meanwhile)." },
  delete: { title: "Delete this pipeline?", label: "Delete",
    text: "Its connectors, replication slot, publication and topics are removed for good." },
};

export default function Actions({ pipeline, onDone }: { pipeline: Pipeline; onDone: () => void }) {
  const router = useRouter();
  const [pending, setPending] = useState<Action | null>(null);
  const [busy, setBusy] = useState<Action | null>(null);
  const [error, setError] = useState<unknown>(null);
  // What the status allows comes from the server's lifecycle table; deleting also needs manage access (operate,
  // when granted, starts and stops only).
  const allowed = (a: Action) => pipeline.allowed_actions.includes(a) && (a !== "delete" || canManage(pipeline.access));
  const run = async (action: Action) => {
    setBusy(action);
    setError(null);
    try {
      if (action === "delete") {
        await pipelinesApi.remove(pipeline.id);
        router.push("/pipelines");
      } else {
        await pipelinesApi.action(pipeline.id, action);
        onDone();
      }
      setPending(null);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(null);
    }
  };
  const asked = pending ? CONFIRM[pending] : undefined;
  return (
    <>
      <Group gap="xs">
        {ORDER.filter(allowed).map((a) => (
          <Button key={a} size="xs" variant={a === "delete" ? "subtle" : "light"} color={a === "delete" ? "red" : undefined}
            data-testid={`action-${a}`} loading={busy === a && !CONFIRM[a]}
            onClick={() => CONFIRM[a] ? setPending(a) : void run(a)}>
            {a[0].toUpperCase() + a.slice(1)}
          </Button>
        ))}
      </Group>
      {!pending && <ErrorText error={error} />}
      <ConfirmDialog opened={Boolean(asked)} title={asked?.title ?? ""} confirmLabel={asked?.label ?? ""}
        busy={busy !== null} error={error} onCancel={() => { setPending(null); setError(null); }}
        onConfirm={() => pending && void run(pending)}>
        <Text>{asked?.text}</Text>
      </ConfirmDialog>
    </>
  );
}
