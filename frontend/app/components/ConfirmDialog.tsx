"use client";
// The one confirmation every destructive or data-moving action uses (remove a table, resync, reset, replay, a role
// change, delete): it says what will happen before anything is sent. Harmless actions (start, resume) never ask.
import { Button, Group, Modal, Stack } from "@mantine/core";
import type { ReactNode } from "react";

import ErrorText from "@/app/components/ErrorText";

export default function ConfirmDialog({ opened, title, children, confirmLabel, danger = true, busy = false,
  disabled = false, error = null, onConfirm, onCancel }: {
  opened: boolean; title: string; children: ReactNode; confirmLabel: string; danger?: boolean; busy?: boolean;
  disabled?: boolean; error?: unknown; onConfirm: () => void; onCancel: () => void;
}) {
  return (
    <Modal opened={opened} onClose={onCancel} title={title}>
      <Stack data-testid="confirm-dialog">
        {children}
        <ErrorText error={error} />
        <Group justify="flex-end">
          <Button variant="default" onClick={onCancel}>Cancel</Button>
          <Button color={danger ? "red" : undefined} loading={busy} disabled={disabled} onClick={onConfirm}
            data-testid="confirm">{confirmLabel}</Button>
        </Group>
      </Stack>
    </Modal>
  );
}
