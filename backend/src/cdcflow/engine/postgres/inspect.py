"""Open a PostgreSQL connection with errors safe to show, and introspect its tables and columns."""

from typing import Any

import psycopg

from cdcflow.engine.endpoints import DatabaseEndpoint, EndpointUnreachable
from cdcflow.engine.names import SIGNAL_SCHEMA

__all__ = ["EndpointUnreachable", "open_connection", "list_tables", "list_columns"]


# What a failed connect may say. Anything else - refused, timed out, unknown host, a server that answers with
# something other than PostgreSQL - is "could not connect": no server text, no address and no timing difference
# ever reaches the caller, so the Test button cannot be used to map which ports are open and what answers there.
COULD_NOT_CONNECT = "Could not connect to the server"
AUTH_FAILED = "Authentication failed: wrong username or password"
AUTH_METHOD_REFUSED = ("Authentication failed: the server asked for a password method this connection does not "
                       "allow (cdcflow only uses SCRAM-SHA-256, or MD5 when the connection allows it; never a "
                       "cleartext password)")


def describe_error(exc: Exception) -> str:
    lowered = str(exc).lower()
    if "authentication method requirement" in lowered:
        return AUTH_METHOD_REFUSED
    if "password authentication failed" in lowered or ("scram" in lowered and "authentication" in lowered):
        return AUTH_FAILED
    if "no pg_hba.conf entry" in lowered:
        return "Authentication failed: the server does not allow this client (pg_hba.conf)"
    if "database" in lowered and "does not exist" in lowered:
        return "Database does not exist"
    if "server does not support ssl" in lowered:
        return "The server does not support SSL, but the connection's sslmode requires it"
    return COULD_NOT_CONNECT


def open_connection(endpoint: DatabaseEndpoint, timeout: int, **kwargs: Any) -> psycopg.Connection:
    try:
        return psycopg.connect(**endpoint.libpq_kwargs(timeout), **kwargs)
    except psycopg.Error as exc:
        raise EndpointUnreachable(describe_error(exc)) from None


_TABLES_SQL = """
SELECT n.nspname, c.relname, greatest(c.reltuples, 0)::bigint,
       pk.cols,
       CASE c.relreplident WHEN 'd' THEN 'default' WHEN 'f' THEN 'full' WHEN 'i' THEN 'index' ELSE 'nothing' END
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN LATERAL (
    SELECT array_agg(a.attname ORDER BY array_position(i.indkey::int2[], a.attnum)) AS cols
    FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
    WHERE i.indrelid = c.oid AND i.indisprimary
) pk ON true
WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
  AND n.nspname NOT IN ('pg_catalog', 'information_schema', %(own)s) AND n.nspname NOT LIKE 'pg_toast%%'
  AND (%(schema)s::text IS NULL OR n.nspname = %(schema)s)
ORDER BY 1, 2
"""


def list_tables(conn: psycopg.Connection, schema: str | None = None) -> list[dict[str, Any]]:
    """The user tables that can be replicated: never the system's, never cdcflow's own (its signal tables)."""
    rows = conn.execute(_TABLES_SQL, {"schema": schema, "own": SIGNAL_SCHEMA}).fetchall()
    return [{"schema": r[0], "table": r[1], "estimated_rows": r[2], "primary_key": list(r[3] or []),
             "replica_identity": r[4]} for r in rows]


_COLUMNS_SQL = """
SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, pg_get_expr(d.adbin, d.adrelid),
       coalesce(a.attnum = ANY(i.indkey), false)
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
LEFT JOIN pg_index i ON i.indrelid = c.oid AND i.indisprimary
WHERE n.nspname = %s AND c.relname = %s AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum
"""


def list_columns(conn: psycopg.Connection, schema: str, table: str) -> list[dict[str, Any]]:
    rows = conn.execute(_COLUMNS_SQL, (schema, table)).fetchall()
    return [{"name": r[0], "type": r[1], "nullable": not r[2], "default": r[3], "primary_key": r[4]}
            for r in rows]
