"use client";
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";

type Point = { t: string; insert?: number; update?: number; delete?: number };

export default function EventsChart({ points, height = 220 }: { points: Point[]; height?: number }) {
  const data = points.map((p) => ({ ...p, label: new Date(p.t).toLocaleTimeString([], { hour: "2-digit",
    minute: "2-digit" }) }));
  return (
    <div style={{ width: "100%", height }} data-testid="events-chart">
      <ResponsiveContainer>
        <BarChart data={data}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="label" fontSize={11} />
          <YAxis fontSize={11} allowDecimals={false} />
          <Tooltip />
          <Legend />
          <Bar dataKey="insert" stackId="a" fill="#40c057" />
          <Bar dataKey="update" stackId="a" fill="#228be6" />
          <Bar dataKey="delete" stackId="a" fill="#fa5252" />
        </BarChart>
      </ResponsiveContainer>
    </div>
  );
}
