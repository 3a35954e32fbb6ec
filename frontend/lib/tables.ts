// Which source tables a picker offers (pure): never cdcflow's own objects, and the connection's schema unless the
// user asks for every schema.
import type { TableInfo } from "@/lib/api/endpoints";

/** The schema on a PostgreSQL source that holds cdcflow's signal tables (the API leaves it out too). */
export const OWN_SCHEMA = "cdcflow";

export function pickable(tables: TableInfo[], schema: string | undefined, everySchema: boolean): TableInfo[] {
  return tables.filter((t) => t.schema !== OWN_SCHEMA && (everySchema || !schema || t.schema === schema));
}

/** Tables whose name contains `query` (case-insensitive; "shop.ord" and "ord" both find shop.orders). */
export function matching(tables: TableInfo[], query: string): TableInfo[] {
  const q = query.trim().toLowerCase();
  return q ? tables.filter((t) => `${t.schema}.${t.table}`.toLowerCase().includes(q)) : tables;
}
