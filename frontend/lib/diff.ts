// Before/after of one change, column by column (pure, unit-tested): which columns an update changed.

export type ColumnDiff = { column: string; before: unknown; after: unknown; changed: boolean };

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

export function diffRows(before: unknown, after: unknown): ColumnDiff[] {
  const b = (before && typeof before === "object" ? before : {}) as Record<string, unknown>;
  const a = (after && typeof after === "object" ? after : {}) as Record<string, unknown>;
  const columns = [...new Set([...Object.keys(a), ...Object.keys(b)])];
  const both = !!before && !!after;
  return columns.map((column) => ({ column, before: b[column], after: a[column],
    changed: both && !same(b[column], a[column]) }));
}

export function show(value: unknown): string {
  if (value === undefined) return "";
  if (value === null) return "null";
  return typeof value === "string" ? value : JSON.stringify(value);
}
