"""Read a source table's definition from the catalog and create the same table (types, NOT NULL, primary key)
on the target."""

import psycopg
from psycopg import sql

from cdcflow.engine.catalog import Column, TableDef

_COLUMNS = """
SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
       tn.nspname IN ('pg_catalog', 'information_schema') OR t.typtype = 'b' AND et.oid IS NOT NULL
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_type t ON t.oid = a.atttypid
JOIN pg_namespace tn ON tn.oid = t.typnamespace
LEFT JOIN pg_type et ON et.oid = t.typelem AND et.typnamespace = 'pg_catalog'::regnamespace
WHERE n.nspname = %s AND c.relname = %s AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum
"""

_PRIMARY_KEY = """
SELECT a.attname
FROM pg_index i
JOIN pg_class c ON c.oid = i.indrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN LATERAL unnest(i.indkey) WITH ORDINALITY k(attnum, ord) ON true
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
WHERE n.nspname = %s AND c.relname = %s AND i.indisprimary
ORDER BY k.ord
"""


def ident(table: TableDef) -> sql.Identifier:
    """The table's name as a PostgreSQL identifier (schema-qualified)."""
    return sql.Identifier(table.schema, table.name)


def read_table(conn: psycopg.Connection, schema: str, table: str) -> TableDef | None:
    rows = conn.execute(_COLUMNS, (schema, table)).fetchall()
    if not rows:
        return None
    pk = tuple(r[0] for r in conn.execute(_PRIMARY_KEY, (schema, table)).fetchall())
    return TableDef(schema, table, tuple(Column(r[0], r[1], r[2], r[3]) for r in rows), pk)


def target_type(column: Column) -> str:
    # Enums, domains and composite types of the source may not exist on the target: carry them as text.
    return column.type if column.builtin_type else "text"


def create_table_sql(table: TableDef) -> sql.Composed:
    parts = [sql.SQL("{} {}{}").format(sql.Identifier(c.name), sql.SQL(target_type(c)),
                                       sql.SQL(" NOT NULL") if c.not_null else sql.SQL(""))
             for c in table.columns]
    if table.primary_key:
        parts.append(sql.SQL("PRIMARY KEY ({})").format(sql.SQL(", ").join(map(sql.Identifier, table.primary_key))))
    return sql.SQL("CREATE TABLE IF NOT EXISTS {} ({})").format(ident(table), sql.SQL(", ").join(parts))


def ensure_target_table(conn: psycopg.Connection, table: TableDef) -> TableDef:
    """Create schema and table if missing; return the target's definition (which may predate us)."""
    conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(table.schema)))
    conn.execute(create_table_sql(table))
    created = read_table(conn, table.schema, table.name)
    assert created is not None
    return created


def same_types(source: TableDef, target: TableDef) -> bool:
    """Binary COPY needs identical column types, in the same order."""
    return [(c.name, c.type) for c in source.columns] == [(c.name, c.type) for c in target.columns]
