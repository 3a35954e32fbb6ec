"use client";
import { Badge, Button, Group, Modal, Stack, Table, Text, Title } from "@mantine/core";
import { useCallback, useEffect, useState } from "react";

import ChannelForm from "@/app/alerts/ChannelForm";
import HistoryTable from "@/app/alerts/HistoryTable";
import RuleForm from "@/app/alerts/RuleForm";
import ErrorText from "@/app/components/ErrorText";
import { describeCondition, describeScope, mayEditAlert, mayTestChannel } from "@/lib/alerts";
import {
  alertsApi, pipelinesApi, type AlertChannel, type AlertEvent, type AlertRule, type AlertTestResult, type Pipeline,
} from "@/lib/api/endpoints";
import { useInterval } from "@/lib/hooks/useLive";
import { useAppSelector } from "@/lib/store/hooks";

type Confirm = { kind: "rule"; item: AlertRule } | { kind: "channel"; item: AlertChannel };

export default function AlertsPage() {
  const role = useAppSelector((s) => s.auth.user?.role);
  const canWrite = role === "admin" || role === "operator";
  const [rules, setRules] = useState<AlertRule[]>([]);
  const [channels, setChannels] = useState<AlertChannel[]>([]);
  const [pipelines, setPipelines] = useState<Pipeline[]>([]);
  const [history, setHistory] = useState<AlertEvent[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [editingRule, setEditingRule] = useState<AlertRule | "new" | null>(null);
  const [editingChannel, setEditingChannel] = useState<AlertChannel | "new" | null>(null);
  const [confirm, setConfirm] = useState<Confirm | null>(null);
  const [tests, setTests] = useState<Record<string, AlertTestResult | "sending">>({});

  const load = useCallback(async () => {
    try {
      const [r, c, h, p] = await Promise.all([alertsApi.rules(), alertsApi.channels(), alertsApi.history({ limit: 50 }),
        pipelinesApi.list()]);
      setRules(r); setChannels(c); setHistory(h.items); setPipelines(p);
      setError(null);
    } catch (err) {
      setError(err);
    }
  }, []);
  useEffect(() => { void load(); }, [load]);
  useInterval(() => void alertsApi.history({ limit: 50 }).then((h) => setHistory(h.items)).catch(setError), 10_000);

  const test = async (c: AlertChannel) => {
    setTests((t) => ({ ...t, [c.id]: "sending" }));
    try {
      const result = await alertsApi.testChannel(c.id);
      setTests((t) => ({ ...t, [c.id]: result }));
    } catch (err) {
      setError(err);
      setTests((t) => { const { [c.id]: _, ...rest } = t; return rest; });
    }
  };
  const remove = async (c: Confirm) => {
    try {
      if (c.kind === "rule") await alertsApi.removeRule(c.item.id);
      else await alertsApi.removeChannel(c.item.id);
      await load();
    } catch (err) {
      setError(err);
    }
    setConfirm(null);
  };
  const saved = () => { setEditingRule(null); setEditingChannel(null); void load(); };

  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>Alerts</Title>
        <Button variant="default" size="xs" onClick={() => void load()}>Refresh</Button>
      </Group>
      <ErrorText error={error} />

      <Group justify="space-between"><Title order={4}>Rules</Title>
        {canWrite && <Button size="xs" onClick={() => setEditingRule("new")}>New rule</Button>}</Group>
      <Table withTableBorder striped data-testid="alert-rules">
        <Table.Thead><Table.Tr><Table.Th>Name</Table.Th><Table.Th>Condition</Table.Th><Table.Th>Scope</Table.Th>
          <Table.Th>Notify</Table.Th><Table.Th>State</Table.Th><Table.Th /></Table.Tr></Table.Thead>
        <Table.Tbody>
          {rules.map((r) => (
            <Table.Tr key={r.id} data-testid={`rule-${r.name}`}>
              <Table.Td>{r.name}</Table.Td>
              <Table.Td>{describeCondition(r)}</Table.Td>
              <Table.Td>{describeScope(r)}</Table.Td>
              <Table.Td>{r.channels.map((c) => c.name).join(", ") || "–"}</Table.Td>
              <Table.Td>{!r.enabled ? <Badge color="gray">disabled</Badge>
                : r.firing ? <Badge color="red">firing ({r.firing})</Badge> : <Badge color="green">ok</Badge>}</Table.Td>
              <Table.Td>{mayEditAlert(r, role) && (
                <Group gap="xs" justify="flex-end">
                  <Button size="xs" variant="default" onClick={() => setEditingRule(r)}>Edit</Button>
                  <Button size="xs" color="red" variant="subtle" onClick={() => setConfirm({ kind: "rule", item: r })}>Delete</Button>
                </Group>)}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      {!rules.length && <Text c="dimmed" size="sm">No rules yet.</Text>}

      <Group justify="space-between"><Title order={4}>Channels</Title>
        {canWrite && <Button size="xs" onClick={() => setEditingChannel("new")}>New channel</Button>}</Group>
      <Table withTableBorder striped data-testid="alert-channels">
        <Table.Thead><Table.Tr><Table.Th>Name</Table.Th><Table.Th>Kind</Table.Th><Table.Th>URL</Table.Th>
          <Table.Th>Test</Table.Th><Table.Th /></Table.Tr></Table.Thead>
        <Table.Tbody>
          {channels.map((c) => {
            const t = tests[c.id];
            return (
              <Table.Tr key={c.id} data-testid={`channel-${c.name}`}>
                <Table.Td>{c.name} {!c.enabled && <Badge color="gray" size="xs">disabled</Badge>}</Table.Td>
                <Table.Td><Badge variant="light">{c.kind}</Badge>{c.has_secret && <Text size="xs" c="dimmed">signed</Text>}</Table.Td>
                <Table.Td><Text size="sm" ff="monospace">{c.url_hint}</Text></Table.Td>
                <Table.Td data-testid="test-result">{t && t !== "sending" && (
                  <Text size="sm" c={t.ok ? "green" : "red"}>
                    {t.ok ? `Delivered (HTTP ${t.status_code})` : `Failed: ${t.error}`} · {t.latency_ms} ms
                  </Text>)}</Table.Td>
                <Table.Td>
                  <Group gap="xs" justify="flex-end">
                    {mayTestChannel(c, role) && <Button size="xs" variant="light" loading={t === "sending"}
                      onClick={() => void test(c)}>Send test notification</Button>}
                    {mayEditAlert(c, role) && <>
                      <Button size="xs" variant="default" onClick={() => setEditingChannel(c)}>Edit</Button>
                      <Button size="xs" color="red" variant="subtle" onClick={() => setConfirm({ kind: "channel", item: c })}>
                        Delete</Button></>}
                  </Group></Table.Td>
              </Table.Tr>
            );
          })}
        </Table.Tbody>
      </Table>
      {!channels.length && <Text c="dimmed" size="sm">No channels yet.</Text>}

      <Title order={4}>History</Title>
      <HistoryTable items={history} />

      <Modal opened={editingRule !== null} onClose={() => setEditingRule(null)}
        title={editingRule === "new" ? "New alert rule" : "Edit alert rule"}>
        {editingRule !== null && <RuleForm existing={editingRule === "new" ? undefined : editingRule}
          pipelines={pipelines} channels={channels} onSaved={saved} onCancel={() => setEditingRule(null)} />}
      </Modal>
      <Modal opened={editingChannel !== null} onClose={() => setEditingChannel(null)}
        title={editingChannel === "new" ? "New channel" : "Edit channel"}>
        {editingChannel !== null && <ChannelForm existing={editingChannel === "new" ? undefined : editingChannel}
          onSaved={saved} onCancel={() => setEditingChannel(null)} />}
      </Modal>
      <Modal opened={confirm !== null} onClose={() => setConfirm(null)} title={`Delete ${confirm?.kind}?`}>
        <Text>Delete {confirm?.item.name}?{confirm?.kind === "rule" ? " Its open alerts resolve." : " Rules stop notifying it."}</Text>
        <Group justify="flex-end" mt="md">
          <Button variant="default" onClick={() => setConfirm(null)}>Cancel</Button>
          <Button color="red" onClick={() => confirm && void remove(confirm)}>Delete</Button>
        </Group>
      </Modal>
    </Stack>
  );
}
