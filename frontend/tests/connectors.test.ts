import { describe, expect, it } from "vitest";

import { connectorBadge, healthLabel } from "@/lib/connectors";

const task = (state: string) => ({ id: 0, state, worker_id: "w", error: null, trace: null });
const conn = (state: string, tasks: string[]) => ({ exists: true, state, worker_id: "w", tasks: tasks.map(task) });

describe("connectorBadge", () => {
  it("is red for a failed task under a RUNNING connector", () => {
    expect(connectorBadge("ERROR", conn("RUNNING", ["FAILED"]))).toMatchObject({ label: "TASK FAILED", tone: "error" });
    expect(connectorBadge("RUNNING", conn("RUNNING", ["RUNNING", "FAILED"])).color).toBe("red");
  });
  it("never says OK for a connector that is not there or stopped", () => {
    expect(connectorBadge("STOPPED", null)).toMatchObject({ label: "not created", tone: "idle" });
    expect(connectorBadge("RUNNING", { exists: false, state: null, worker_id: null, tasks: [] }).tone).toBe("error");
    expect(connectorBadge("STOPPED", conn("STOPPED", ["STOPPED"])).tone).toBe("idle");
  });
  it("calls a pause the user asked for a pause, not a problem", () => {
    expect(connectorBadge("PAUSED", conn("PAUSED", ["PAUSED"]))).toMatchObject({ label: "PAUSED (as asked)", tone: "idle" });
    expect(connectorBadge("RUNNING", conn("PAUSED", ["PAUSED"])).tone).toBe("warning");
    expect(connectorBadge("RUNNING", conn("RUNNING", ["RUNNING"])).tone).toBe("ok");
  });
  it("shows no health for a pipeline that is not running", () => {
    expect(healthLabel("STOPPED", "ok")).toBeNull();
    expect(healthLabel("STOPPED", "degraded")).toBe("degraded");
    expect(healthLabel("RUNNING", "ok")).toBe("ok");
  });
});

describe("explainFailure", () => {
  it("names known causes in words and falls back to the exception's message", async () => {
    const { explainFailure } = await import("@/lib/failures");
    expect(explainFailure("org.postgresql.util.PSQLException: FATAL: password authentication failed for user")
      .cause).toMatch(/refused the login/);
    expect(explainFailure("org.apache.kafka.connect.errors.ConnectException: something odd\n\tat x.y")).toEqual({
      cause: "something odd", todo: "Read the trace, fix its cause, then restart the failed task." });
  });
});
