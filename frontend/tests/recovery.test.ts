import { describe, expect, it } from "vitest";

import { ACTION_LABELS, recoveryHint } from "@/lib/recovery";

describe("recoveryHint", () => {
  it("says nothing for a healthy pipeline", () => {
    expect(recoveryHint({ status: "RUNNING", available_actions: ["resync"], schema_pending: [] })).toBeNull();
  });
  it("points at the trace and the restart for a failed task", () => {
    expect(recoveryHint({ status: "ERROR", available_actions: ["restart_failed", "reset"], schema_pending: [] }))
      .toMatch(/restart the failed tasks/);
  });
  it("asks for the target DDL when a change cannot be applied on its own", () => {
    const pending = [{ table: "s.t", kind: "type_change", outcome: "block", ddl: ["ALTER TABLE ..."] }];
    expect(recoveryHint({ status: "PAUSED", available_actions: ["review_schema", "resume"], schema_pending: pending }))
      .toMatch(/run the statement/);
  });
  it("offers resume for a change held by the pause policy", () => {
    const pending = [{ table: "s.t", kind: "add_column", outcome: "block", ddl: ["ALTER TABLE ... ADD COLUMN"] }];
    expect(recoveryHint({ status: "PAUSED", available_actions: ["review_schema", "resume"], schema_pending: pending }))
      .toMatch(/resume to apply/);
  });
  it("labels every action the backend can offer", () => {
    for (const a of ["restart_failed", "review_schema", "resume", "reset", "resync", "add_table", "remove_table"]) {
      expect(ACTION_LABELS[a]).toBeTruthy();
    }
  });
});
