"use client";
import { Button, Group, MultiSelect, NumberInput, Select, Stack, Switch, TextInput } from "@mantine/core";
import { useState, type FormEvent } from "react";

import ErrorText from "@/app/components/ErrorText";
import { fromApiThreshold, kindInfo, RULE_KINDS, toApiThreshold } from "@/lib/alerts";
import { alertsApi, type AlertChannel, type AlertRule, type AlertRuleKind, type Pipeline } from "@/lib/api/endpoints";

type Props = { existing?: AlertRule; pipelines: Pipeline[]; channels: AlertChannel[]; onSaved: () => void;
  onCancel: () => void };

const EVERY = "__every__";

export default function RuleForm({ existing, pipelines, channels, onSaved, onCancel }: Props) {
  const [form, setForm] = useState({
    name: existing?.name ?? "", kind: (existing?.kind ?? "pipeline_error") as AlertRuleKind,
    pipeline: existing?.pipeline_id ?? EVERY,
    threshold: existing ? fromApiThreshold(existing.kind, existing.threshold) : null as number | null,
    channel_ids: existing?.channels.map((c) => c.id) ?? [] as string[], enabled: existing?.enabled ?? true,
  });
  const [error, setError] = useState<unknown>(null);
  const [saving, setSaving] = useState(false);
  const info = kindInfo(form.kind);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setSaving(true);
    setError(null);
    const body = {
      name: form.name, kind: form.kind, threshold: toApiThreshold(form.kind, form.threshold),
      pipeline_id: info.globalOnly || form.pipeline === EVERY ? null : form.pipeline,
      channel_ids: form.channel_ids, enabled: form.enabled,
    };
    try {
      if (existing) await alertsApi.updateRule(existing.id, body);
      else await alertsApi.createRule(body);
      onSaved();
    } catch (err) {
      setError(err);
    } finally {
      setSaving(false);
    }
  };
  return (
    <form onSubmit={submit} data-testid="rule-form">
      <Stack gap="xs">
        <TextInput label="Name" value={form.name} required onChange={(e) => setForm({ ...form, name: e.target.value })} />
        <Select label="Condition" data={RULE_KINDS.map((k) => ({ value: k.value, label: k.label }))} value={form.kind}
          allowDeselect={false} onChange={(v) => v && setForm({ ...form, kind: v as AlertRuleKind })} />
        {info.unit && (
          <NumberInput label={`Threshold (${info.unit})`} required min={0} decimalScale={3}
            value={form.threshold ?? ""} onChange={(v) => setForm({ ...form, threshold: v === "" ? null : Number(v) })} />
        )}
        {!info.globalOnly && (
          <Select label="Pipeline" allowDeselect={false} value={form.pipeline}
            data={[{ value: EVERY, label: "Every pipeline" }, ...pipelines.map((p) => ({ value: p.id, label: p.name }))]}
            onChange={(v) => v && setForm({ ...form, pipeline: v })} />
        )}
        <MultiSelect label="Notify" placeholder={channels.length ? "Channels" : "No channels yet"} value={form.channel_ids}
          data={channels.map((c) => ({ value: c.id, label: `${c.name} (${c.kind})` }))}
          onChange={(v) => setForm({ ...form, channel_ids: v })} />
        <Switch label="Enabled" checked={form.enabled} onChange={(e) => setForm({ ...form, enabled: e.target.checked })} />
        <ErrorText error={error} />
        <Group justify="flex-end">
          <Button variant="default" onClick={onCancel}>Cancel</Button>
          <Button type="submit" loading={saving}>{existing ? "Save" : "Create rule"}</Button>
        </Group>
      </Stack>
    </form>
  );
}
