// Lag versus held WAL (pure, unit-tested). A slot's unconfirmed WAL is streaming lag only while its pipeline runs;
// for a stopped or paused pipeline it is WAL the source keeps for later, which is a disk concern, not a delay.
import type { Pipeline } from "@/lib/api/endpoints";

type Replication = Record<string, { lag_bytes?: number | null; lag_seconds?: number | null } | null>;

export function splitLag(pipelines: Pick<Pipeline, "id" | "status" | "retained_wal_bytes">[], replication: Replication) {
  let streamingBytes = 0;
  let streamingSeconds = 0;
  let heldBytes = 0;
  for (const p of pipelines) {
    if (p.status === "RUNNING") {
      const r = replication[p.id];
      streamingBytes += r?.lag_bytes ?? 0;
      streamingSeconds = Math.max(streamingSeconds, r?.lag_seconds ?? 0);
    } else {
      heldBytes += p.retained_wal_bytes ?? 0;
    }
  }
  return { streamingBytes, streamingSeconds, heldBytes };
}
