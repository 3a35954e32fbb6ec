"""How many rows a full load will copy, read inside its snapshot: the planner's estimate when the table has
statistics, an exact count when it has none and is small, a 1 % block sample when it has none and is large.

A table never analyzed has reltuples = -1; trusting the number stored when the pipeline was created (0) made
progress read 99.9 % from the first row on.
"""

import psycopg
from psycopg import sql

from cdcflow.engine.postgres.ddl import TableDef, ident

EXACT_COUNT_MAX_PAGES = 16_384    # 128 MB at 8 kB blocks: count(*) costs well under a second or two
SAMPLE_PERCENT = 1


def table_pages(conn: psycopg.Connection, table: TableDef) -> int:
    return conn.execute("SELECT pg_relation_size(%s::regclass) / current_setting('block_size')::int",
                        (_regclass(conn, table),)).fetchone()[0]


def estimate_rows(conn: psycopg.Connection, table: TableDef) -> int | None:
    """Rows of `table` as `conn` (a connection inside the load's snapshot) sees them; None when unknown."""
    reltuples, relpages = conn.execute("SELECT reltuples, relpages FROM pg_class WHERE oid = %s::regclass",
                                       (_regclass(conn, table),)).fetchone()
    pages = table_pages(conn, table)
    if pages == 0:
        return 0
    if reltuples >= 0 and relpages > 0:
        # What the planner does: the density from the last ANALYZE times the table's current size.
        return round(reltuples / relpages * pages)
    if pages <= EXACT_COUNT_MAX_PAGES:
        return conn.execute(sql.SQL("SELECT count(*) FROM {}").format(ident(table))).fetchone()[0]
    sampled = conn.execute(sql.SQL("SELECT count(*) FROM {} TABLESAMPLE SYSTEM ({})").format(
        ident(table), sql.Literal(SAMPLE_PERCENT))).fetchone()[0]
    return round(sampled * 100 / SAMPLE_PERCENT) if sampled else None


def _regclass(conn: psycopg.Connection, table: TableDef) -> str:
    return sql.Identifier(table.schema, table.name).as_string(conn)
