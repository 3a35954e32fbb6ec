"use client";
import { Button, Group, PasswordInput, Select, Stack, Switch, Text, TextInput } from "@mantine/core";
import { useState, type FormEvent } from "react";

import ErrorText from "@/app/components/ErrorText";
import { alertsApi, type AlertChannel } from "@/lib/api/endpoints";

type Props = { existing?: AlertChannel; onSaved: () => void; onCancel: () => void };

// The URL and the secret are write-only: an edit that leaves them empty keeps what is stored.
export default function ChannelForm({ existing, onSaved, onCancel }: Props) {
  const [form, setForm] = useState({ name: existing?.name ?? "", kind: existing?.kind ?? "webhook", url: "",
    secret: "", enabled: existing?.enabled ?? true });
  const [error, setError] = useState<unknown>(null);
  const [saving, setSaving] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setSaving(true);
    setError(null);
    try {
      if (existing) {
        await alertsApi.updateChannel(existing.id, { name: form.name, enabled: form.enabled,
          ...(form.url ? { url: form.url } : {}), ...(form.secret ? { secret: form.secret } : {}) });
      } else {
        await alertsApi.createChannel({ name: form.name, kind: form.kind, url: form.url,
          secret: form.kind === "webhook" ? form.secret : null, enabled: form.enabled });
      }
      onSaved();
    } catch (err) {
      setError(err);
    } finally {
      setSaving(false);
    }
  };
  return (
    <form onSubmit={submit} data-testid="channel-form">
      <Stack gap="xs">
        <TextInput label="Name" value={form.name} required onChange={(e) => setForm({ ...form, name: e.target.value })} />
        <Select label="Kind" disabled={!!existing} allowDeselect={false} value={form.kind}
          data={[{ value: "webhook", label: "Webhook (JSON, HMAC-signed)" }, { value: "slack", label: "Slack incoming webhook" }]}
          onChange={(v) => v && setForm({ ...form, kind: v as "webhook" | "slack" })} />
        <TextInput label="URL" type="url" required={!existing} value={form.url}
          placeholder={existing ? `${existing.url_hint} (leave empty to keep)` : "https://"}
          onChange={(e) => setForm({ ...form, url: e.target.value })} />
        {form.kind === "webhook" && (
          <PasswordInput label="Signing secret" required={!existing} minLength={16} autoComplete="new-password"
            description="16+ characters; receivers verify X-Cdcflow-Signature with it"
            placeholder={existing ? "leave empty to keep" : undefined} value={form.secret}
            onChange={(e) => setForm({ ...form, secret: e.target.value })} />
        )}
        {form.kind === "slack" && <Text size="xs" c="dimmed">Slack-compatible: receives {"{\"text\": …}"}.</Text>}
        <Switch label="Enabled" checked={form.enabled} onChange={(e) => setForm({ ...form, enabled: e.target.checked })} />
        <ErrorText error={error} />
        <Group justify="flex-end">
          <Button variant="default" onClick={onCancel}>Cancel</Button>
          <Button type="submit" loading={saving}>{existing ? "Save" : "Create channel"}</Button>
        </Group>
      </Stack>
    </form>
  );
}
