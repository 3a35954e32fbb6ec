// The seed's op-code fallback: normalize whatever an event carries (Debezium code or word) to insert/update/delete.

export type EventKind = "insert" | "update" | "delete" | "truncate" | "other";

export function normalizeEventType(value: unknown): EventKind {
  const v = String(value ?? "").toLowerCase().trim();
  if (["insert", "i", "c", "create", "r"].includes(v)) return "insert";
  if (["update", "u"].includes(v)) return "update";
  if (["delete", "d", "remove"].includes(v)) return "delete";
  if (["truncate", "t"].includes(v)) return "truncate";
  return "other";
}
