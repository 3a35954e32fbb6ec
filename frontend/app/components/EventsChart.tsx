"use client";
import { memo, useMemo } from "react";
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";

import { continuous } from "@/lib/time";

type Point = { t: string; insert?: number; update?: number; delete?: number };
const BUCKET_MS = { minute: 60_000, hour: 3_600_000 } as const;

type Props = { points: Point[]; height?: number; bucket?: keyof typeof BUCKET_MS; hours?: number };

/** Stacked events per bucket over the whole window: empty buckets stay on the axis as zeros. Memoized on the
 * points' content: the pages re-render several times a second while events stream, the chart only when a poll
 * brought different numbers (no animation either: a redraw every poll would keep the main thread busy). */
function EventsChart({ points, height = 220, bucket = "minute", hours = 1 }: Props) {
  const content = JSON.stringify(points);
  const data = useMemo(() => continuous(points, BUCKET_MS[bucket], hours, { insert: 0, update: 0, delete: 0 })
    .map((p) => {
      const d = new Date(p.t);
      const label = bucket === "minute" ? d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })
        : d.toLocaleString([], { month: "2-digit", day: "2-digit", hour: "2-digit" });
      return { ...p, label };
    }),
  // eslint-disable-next-line react-hooks/exhaustive-deps
  [content, bucket, hours]);
  return (
    <div style={{ width: "100%", height }} data-testid="events-chart" data-buckets={data.length}>
      <ResponsiveContainer>
        <BarChart data={data}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="label" fontSize={11} minTickGap={16} />
          <YAxis fontSize={11} allowDecimals={false} />
          <Tooltip />
          <Legend />
          <Bar dataKey="insert" stackId="a" fill="#40c057" isAnimationActive={false} />
          <Bar dataKey="update" stackId="a" fill="#228be6" isAnimationActive={false} />
          <Bar dataKey="delete" stackId="a" fill="#fa5252" isAnimationActive={false} />
        </BarChart>
      </ResponsiveContainer>
    </div>
  );
}

export default memo(EventsChart, (a, b) => a.height === b.height && a.bucket === b.bucket && a.hours === b.hours &&
  (a.points === b.points || JSON.stringify(a.points) === JSON.stringify(b.points)));
