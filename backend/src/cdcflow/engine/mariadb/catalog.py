"""A MariaDB server's tables as cdcflow sees them: the browse lists (tables, columns) and neutral TableDefs.

MariaDB has no schemas inside a database: a database is the schema, so "schema.table" names a table in a database
of the server, and the lists cover every database the user can see except the server's own.
"""

from typing import Any

from cdcflow.engine.catalog import Column, TableDef
from cdcflow.engine.mariadb.ddl import neutral_type

SYSTEM_DATABASES = ("mysql", "information_schema", "performance_schema", "sys")

_TABLES = f"""
SELECT t.TABLE_SCHEMA, t.TABLE_NAME, COALESCE(t.TABLE_ROWS, 0),
       (SELECT GROUP_CONCAT(k.COLUMN_NAME ORDER BY k.ORDINAL_POSITION SEPARATOR '\\n')
          FROM information_schema.KEY_COLUMN_USAGE k
         WHERE k.TABLE_SCHEMA = t.TABLE_SCHEMA AND k.TABLE_NAME = t.TABLE_NAME AND k.CONSTRAINT_NAME = 'PRIMARY')
FROM information_schema.TABLES t
WHERE t.TABLE_TYPE = 'BASE TABLE' AND t.TABLE_SCHEMA NOT IN ({", ".join(f"'{d}'" for d in SYSTEM_DATABASES)})
  AND (%(schema)s IS NULL OR t.TABLE_SCHEMA = %(schema)s)
ORDER BY 1, 2
"""

_COLUMNS = """
SELECT c.COLUMN_NAME, c.COLUMN_TYPE, c.IS_NULLABLE = 'YES', c.COLUMN_DEFAULT, c.COLUMN_KEY = 'PRI', c.DATA_TYPE
FROM information_schema.COLUMNS c
WHERE c.TABLE_SCHEMA = %s AND c.TABLE_NAME = %s
ORDER BY c.ORDINAL_POSITION
"""

# A table's columns for the neutral model: a LONGTEXT with a json_valid() check is MariaDB's JSON.
_DEFINITION = """
SELECT c.COLUMN_NAME, c.DATA_TYPE, c.COLUMN_TYPE, c.IS_NULLABLE = 'NO',
       EXISTS (SELECT 1 FROM information_schema.CHECK_CONSTRAINTS k
               WHERE k.CONSTRAINT_SCHEMA = c.TABLE_SCHEMA AND k.TABLE_NAME = c.TABLE_NAME
                 AND k.CHECK_CLAUSE LIKE CONCAT('json_valid(`', c.COLUMN_NAME, '`)'))
FROM information_schema.COLUMNS c
WHERE c.TABLE_SCHEMA = %s AND c.TABLE_NAME = %s
ORDER BY c.ORDINAL_POSITION
"""

_PRIMARY_KEY = """
SELECT COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE
WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s AND CONSTRAINT_NAME = 'PRIMARY'
ORDER BY ORDINAL_POSITION
"""


def _row_image(conn: Any) -> str:
    """What a change event carries of the old row: MariaDB's counterpart of PostgreSQL's replica identity."""
    with conn.cursor() as cur:
        cur.execute("SELECT @@binlog_row_image")
        return str(cur.fetchone()[0]).lower()


def list_tables(conn: Any, schema: str | None = None) -> list[dict[str, Any]]:
    """The same shape as engine/postgres/inspect.list_tables; `replica_identity` is the server's binlog_row_image
    (full, noblob, minimal): every table of a server shares it. Row counts are InnoDB's estimates."""
    identity = _row_image(conn)
    with conn.cursor() as cur:
        cur.execute(_TABLES, {"schema": schema})
        rows = cur.fetchall()
    return [{"schema": r[0], "table": r[1], "estimated_rows": int(r[2]),
             "primary_key": r[3].split("\n") if r[3] else [], "replica_identity": identity} for r in rows]


def list_columns(conn: Any, schema: str, table: str) -> list[dict[str, Any]]:
    with conn.cursor() as cur:
        cur.execute(_COLUMNS, (schema, table))
        rows = cur.fetchall()
    return [{"name": r[0], "type": r[1], "nullable": bool(r[2]), "default": _default(r[3]),
             "primary_key": bool(r[4])} for r in rows]


def _default(value: str | None) -> str | None:
    # information_schema spells "no default" as NULL and a NULL default as the word NULL (MariaDB >= 10.2.7).
    return None if value is None or value == "NULL" else value


def read_table(conn: Any, schema: str, table: str) -> TableDef | None:
    """A table's neutral definition (schema = the MariaDB database), or None if it does not exist."""
    with conn.cursor() as cur:
        cur.execute(_DEFINITION, (schema, table))
        rows = cur.fetchall()
        if not rows:
            return None
        cur.execute(_PRIMARY_KEY, (schema, table))
        key = tuple(r[0] for r in cur.fetchall())
    columns = []
    for name, data_type, column_type, not_null, is_json in rows:
        neutral, builtin = neutral_type(data_type, column_type, bool(is_json))
        columns.append(Column(name, neutral, bool(not_null), builtin))
    return TableDef(schema, table, tuple(columns), key)
