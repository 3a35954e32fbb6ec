"""Helpers for the schema change and recovery tests: a table that changes shape under a writer, comparisons over the
columns source and target share, and a sampler that records every status a pipeline passes through."""

import random
import threading
import time
import uuid

import psycopg

from tests.support import wait_until

TABLE_DDL = """
CREATE TABLE {t} (
    id integer PRIMARY KEY,
    qty integer NOT NULL,
    note varchar(20),
    legacy integer NOT NULL DEFAULT 0
)
"""


def create_table(conn: psycopg.Connection, table: str, rows: int) -> None:
    conn.execute(TABLE_DDL.format(t=table))
    if rows:
        conn.execute(f"INSERT INTO {table} (id, qty, note, legacy) SELECT g, g, 'n' || g, g FROM "
                     f"generate_series(1, {rows}) g")


def columns(conn: psycopg.Connection, table: str) -> dict[str, tuple[str, bool, str | None]]:
    schema, name = table.split(".")
    rows = conn.execute("SELECT column_name, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull, "
                        "pg_get_expr(d.adbin, d.adrelid) FROM information_schema.columns c "
                        "JOIN pg_attribute a ON a.attrelid = format('%%I.%%I', c.table_schema, c.table_name)::regclass "
                        " AND a.attname = c.column_name "
                        "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
                        "WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
                        (schema, name)).fetchall()
    return {r[0]: (r[1], r[2], r[3]) for r in rows}


def fingerprint(conn: psycopg.Connection, table: str, cols: list[str]) -> tuple[int, str]:
    """Row count and ordered md5 over `cols` only (the target may keep columns the source dropped)."""
    row_expr = "row(" + ", ".join(cols) + ")::text"
    return conn.execute(f"SELECT count(*), coalesce(md5(string_agg({row_expr}, '|' ORDER BY id)), '') "
                        f"FROM {table}").fetchone()


def wait_same(source: psycopg.Connection, target: psycopg.Connection, table: str, timeout: float = 120,
              cols: list[str] | None = None) -> tuple[int, str]:
    """Until the target equals the source over the source's columns (or `cols`)."""
    def check():
        shared = cols or list(columns(source, table))
        expected = fingerprint(source, table, shared)
        try:
            return expected if fingerprint(target, table, shared) == expected else None
        except psycopg.errors.UndefinedColumn:
            return None

    return wait_until(check, timeout, interval=1, what=f"{table} on the target equal to the source")


class Writer(threading.Thread):
    """Inserts, updates and deletes rows of `tables` (id, qty, note only: columns no DDL in the tests touches)
    until stopped; each table gets its own id range so tables never share keys."""

    def __init__(self, dsn: str, tables: list[str], first_id: int = 100_000) -> None:
        super().__init__(daemon=True)
        self.dsn, self.tables = dsn, tables
        self.next_id = {t: first_id for t in tables}
        self.stop_event = threading.Event()
        self.ops = {t: 0 for t in tables}
        self.error: Exception | None = None

    def run(self) -> None:
        rng = random.Random(7)
        try:
            with psycopg.connect(self.dsn, autocommit=True) as conn:
                while not self.stop_event.is_set():
                    for table in self.tables:
                        op = rng.choice(("insert", "insert", "update", "delete"))
                        if op == "insert":
                            conn.execute(f"INSERT INTO {table} (id, qty, note) VALUES (%s, %s, %s)",
                                         (self.next_id[table], rng.randint(1, 1000), uuid.uuid4().hex[:8]))
                            self.next_id[table] += 1
                        elif op == "update":
                            conn.execute(f"UPDATE {table} SET qty = qty + 1, note = %s WHERE id = %s",
                                         (uuid.uuid4().hex[:8], rng.randint(1, self.next_id[table])))
                        else:
                            conn.execute(f"DELETE FROM {table} WHERE id = %s", (rng.randint(1, self.next_id[table]),))
                        self.ops[table] += 1
                    time.sleep(0.01)
        except Exception as exc:  # surfaced by finish()
            self.error = exc

    def finish(self) -> dict[str, int]:
        self.stop_event.set()
        self.join(30)
        assert self.error is None, f"writer failed: {self.error}"
        return self.ops


class StatusSampler(threading.Thread):
    """Records each status the pipeline's row goes through (read every 0.2 s from the metadata database, where the
    reconciler and the watcher write it) until stopped."""

    def __init__(self, dsn: str, pipeline_id: str) -> None:
        super().__init__(daemon=True)
        self.dsn, self.pipeline_id, self.seen, self.stop_event = dsn, pipeline_id, [], threading.Event()

    def run(self) -> None:
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            while not self.stop_event.is_set():
                status, error = conn.execute("SELECT status, last_error FROM pipelines WHERE id = %s",
                                             (self.pipeline_id,)).fetchone()
                if not self.seen or self.seen[-1][0] != status:
                    self.seen.append((status, error))
                self.stop_event.wait(0.2)

    def finish(self) -> list[tuple[str, str | None]]:
        self.stop_event.set()
        self.join(10)
        return self.seen
