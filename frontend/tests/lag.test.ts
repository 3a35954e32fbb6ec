import { describe, expect, it } from "vitest";

import { splitLag } from "@/lib/lag";

describe("splitLag", () => {
  it("counts only running pipelines as lag and the WAL stopped ones hold apart", () => {
    const pipelines = [{ id: "a", status: "RUNNING", retained_wal_bytes: 5000 },
      { id: "b", status: "STOPPED", retained_wal_bytes: 12_201_032_520 }, { id: "c", status: "RUNNING",
        retained_wal_bytes: null }] as never;
    expect(splitLag(pipelines, { a: { lag_bytes: 100, lag_seconds: 2 }, b: { lag_bytes: 12_201_032_520,
      lag_seconds: 9000 }, c: { lag_bytes: 50, lag_seconds: 0.5 } }))
      .toEqual({ streamingBytes: 150, streamingSeconds: 2, heldBytes: 12_201_032_520 });
  });
});
