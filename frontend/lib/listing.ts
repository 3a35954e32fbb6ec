// What the lists do with their rows (pure): filter by status, sort by a column, cut into pages.

export type SortKey = "name" | "status" | "updated";
export const PAGE_SIZE = 20;

type Row = { name: string; status: string; updated_at: string };

export function listed<T extends Row>(rows: T[], status: string | null, sort: SortKey, descending: boolean): T[] {
  const kept = status ? rows.filter((r) => r.status === status) : rows;
  const value = (r: Row) => sort === "updated" ? r.updated_at : sort === "status" ? r.status : r.name.toLowerCase();
  const sorted = [...kept].sort((a, b) => value(a) < value(b) ? -1 : value(a) > value(b) ? 1 : 0);
  return descending ? sorted.reverse() : sorted;
}

/** The rows of page `page` (1-based; a page past the end shows the last one) and how many pages there are. */
export function paged<T>(rows: T[], page: number, size = PAGE_SIZE): { rows: T[]; pages: number; page: number } {
  const pages = Math.max(1, Math.ceil(rows.length / size));
  const current = Math.min(Math.max(1, page), pages);
  return { rows: rows.slice((current - 1) * size, current * size), pages, page: current };
}
