import { describe, expect, it } from "vitest";

import type { TableInfo } from "@/lib/api/endpoints";
import { matching, pickable } from "@/lib/tables";

const t = (schema: string, table: string): TableInfo =>
  ({ schema, table, estimated_rows: 0, primary_key: ["id"], replica_identity: "default" }) as TableInfo;
const all = [t("shop", "orders"), t("shop", "customers"), t("cdcflow", "signal_ab"), t("public", "notes")];

describe("table pickers", () => {
  it("never offer cdcflow's own schema and keep to the connection's schema unless asked", () => {
    expect(pickable(all, "shop", false).map((x) => x.table)).toEqual(["orders", "customers"]);
    expect(pickable(all, "shop", true).map((x) => x.table)).toEqual(["orders", "customers", "notes"]);
    expect(pickable(all, undefined, false).map((x) => x.schema)).not.toContain("cdcflow");
  });
  it("search by any part of schema.table, ignoring case", () => {
    expect(matching(all, "ORD").map((x) => x.table)).toEqual(["orders"]);
    expect(matching(all, "shop.c").map((x) => x.table)).toEqual(["customers"]);
    expect(matching(all, " ")).toHaveLength(4);
  });
});
