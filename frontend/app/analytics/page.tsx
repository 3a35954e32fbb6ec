"use client";
import { Card, Group, Select, Stack, Table, Text, Title } from "@mantine/core";
import { useEffect, useState } from "react";
import { CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";

import EventsChart from "@/app/components/EventsChart";
import { api } from "@/lib/api/client";
import { monitoringApi } from "@/lib/api/endpoints";

type Point = { t: string; insert?: number; update?: number; delete?: number; average_latency_ms?: number | null };
type TableRow = { table: string; total: number; insert?: number; update?: number; delete?: number };
type Run = { started_at: string; rows: number | null; rows_per_second: number | null; seconds: number | null };

export default function AnalyticsPage() {
  const [hours, setHours] = useState("24");
  const [events, setEvents] = useState<Point[]>([]);
  const [latency, setLatency] = useState<Point[]>([]);
  const [tables, setTables] = useState<TableRow[]>([]);
  const [runs, setRuns] = useState<(Run & { name: string })[]>([]);
  useEffect(() => {
    const h = Number(hours);
    void monitoringApi.timeseries({ bucket: "hour", hours: h }).then((r) => setEvents(r.points));
    void monitoringApi.timeseries({ bucket: "hour", hours: h, metric: "latency" }).then((r) => setLatency(r.points));
    void monitoringApi.metrics().then((m) => setTables((m.tables as TableRow[]) ?? []));
    void api().get("/pipelines", { params: { limit: 200 } }).then(async (r) => {
      const list = r.data.items as { id: string; name: string }[];
      const progress = await Promise.all(list.map((p) => api().get(`/pipelines/${p.id}/progress`)
        .then((x) => ({ name: p.name, ...(x.data.last_run as Run | null) })).catch(() => null)));
      setRuns(progress.filter((p): p is Run & { name: string } => Boolean(p && p.started_at)));
    });
  }, [hours]);
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>Analytics</Title>
        <Select data={["6", "24", "168", "720"].map((v) => ({ value: v, label: `last ${v} h` }))} value={hours}
          onChange={(v) => setHours(v ?? "24")} allowDeselect={false} />
      </Group>
      <Card withBorder><Title order={5}>Events per hour, by type</Title>
        <EventsChart points={events} height={260} bucket="hour" hours={Number(hours)} /></Card>
      <Card withBorder>
        <Title order={5}>Average latency per hour (ms)</Title>
        <div style={{ width: "100%", height: 220 }}>
          <ResponsiveContainer>
            <LineChart data={latency.map((p) => ({ ...p, label: new Date(p.t).toLocaleString([], { hour: "2-digit", day: "2-digit" }) }))}>
              <CartesianGrid strokeDasharray="3 3" /><XAxis dataKey="label" fontSize={11} /><YAxis fontSize={11} />
              <Tooltip /><Line dataKey="average_latency_ms" stroke="#7950f2" dot={false} isAnimationActive={false} />
            </LineChart>
          </ResponsiveContainer>
        </div>
      </Card>
      <Card withBorder>
        <Title order={5}>Events by table</Title>
        <Table><Table.Thead><Table.Tr><Table.Th>Table</Table.Th><Table.Th>Inserts</Table.Th><Table.Th>Updates</Table.Th>
          <Table.Th>Deletes</Table.Th><Table.Th>Total</Table.Th></Table.Tr></Table.Thead>
          <Table.Tbody>{tables.map((t, i) => (
            <Table.Tr key={`${t.table}-${i}`}><Table.Td>{t.table}</Table.Td><Table.Td>{t.insert ?? 0}</Table.Td>
              <Table.Td>{t.update ?? 0}</Table.Td><Table.Td>{t.delete ?? 0}</Table.Td><Table.Td>{t.total}</Table.Td></Table.Tr>
          ))}</Table.Tbody></Table>
      </Card>
      <Card withBorder>
        <Title order={5}>Full-load runs</Title>
        {runs.length ? (
          <Table><Table.Tbody>{runs.map((r) => (
            <Table.Tr key={r.name}><Table.Td>{r.name}</Table.Td><Table.Td>{new Date(r.started_at).toLocaleString()}</Table.Td>
              <Table.Td>{r.rows?.toLocaleString()} rows</Table.Td><Table.Td>{r.seconds} s</Table.Td>
              <Table.Td>{r.rows_per_second?.toLocaleString()} rows/s</Table.Td></Table.Tr>))}</Table.Tbody></Table>
        ) : <Text c="dimmed" size="sm">No full loads yet.</Text>}
      </Card>
    </Stack>
  );
}
