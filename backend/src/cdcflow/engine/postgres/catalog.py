"""Table definitions as schema evolution sees them: relation oid, columns by attnum (so a rename is not mistaken for a
drop and an add), types, nullability, defaults and the value rows that predate an ADD COLUMN hold.

Definitions are plain dicts so they are stored as they are (pipeline_tables.schema_state) and compared by value.
"""

from typing import Any

import psycopg

# One query for every table of a pipeline, by name and by the oids last seen (a renamed table keeps its oid).
_RELATIONS = """
SELECT c.oid::bigint, n.nspname, c.relname, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
       pg_get_expr(d.adbin, d.adrelid), a.atthasmissing, a.attmissingval::text,
       tn.nspname IN ('pg_catalog', 'information_schema') OR t.typtype = 'b' AND et.oid IS NOT NULL
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
JOIN pg_type t ON t.oid = a.atttypid
JOIN pg_namespace tn ON tn.oid = t.typnamespace
LEFT JOIN pg_type et ON et.oid = t.typelem AND et.typnamespace = 'pg_catalog'::regnamespace
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE c.relkind IN ('r', 'p')
  AND ((n.nspname, c.relname) IN (SELECT * FROM unnest(%s::text[], %s::text[])) OR c.oid = ANY(%s::oid[]))
ORDER BY c.oid, a.attnum
"""


def parse_missing_value(text: str | None) -> str | None:
    """The one element of attmissingval's array text ({7}, {"a b"}, {{1,2}}, {NULL}) as the element's own text."""
    if text is None or len(text) < 2:
        return None
    inner = text[1:-1]
    if inner == "NULL":
        return None
    if len(inner) >= 2 and inner[0] == '"' and inner[-1] == '"':
        out, escaped = [], False
        for ch in inner[1:-1]:
            if escaped or ch != "\\":
                out.append(ch)
                escaped = False
            else:
                escaped = True
        return "".join(out)
    return inner


def read_relations(conn: psycopg.Connection, names: list[str], oids: list[int] = ()) -> dict[str, dict[str, Any]]:
    """{"schema.table": {"oid", "schema", "name", "columns": [...]}} for the tables found by name or by oid."""
    schemas = [n.split(".", 1)[0] for n in names]
    tables = [n.split(".", 1)[1] for n in names]
    relations: dict[str, dict[str, Any]] = {}
    for row in conn.execute(_RELATIONS, (schemas, tables, list(oids))).fetchall():
        oid, schema, table, attnum, name, type_, not_null, default, has_missing, missing, builtin = row
        rel = relations.setdefault(f"{schema}.{table}", {"oid": oid, "schema": schema, "name": table, "columns": []})
        rel["columns"].append({
            "attnum": attnum, "name": name, "type": type_, "not_null": not_null, "default": default,
            # The value every row that existed before ADD COLUMN ... DEFAULT holds (a non-volatile default is
            # evaluated once and stored here; a volatile one rewrites the table and leaves nothing).
            "missing": parse_missing_value(missing) if has_missing else None, "has_missing": bool(has_missing),
            "builtin": builtin})
    return relations


def current_lsn(conn: psycopg.Connection) -> str:
    return conn.execute("SELECT pg_current_wal_lsn()::text").fetchone()[0]
