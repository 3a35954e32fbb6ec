"""Test a PostgreSQL connection with preflight checks, and introspect its tables and columns."""

import time
from typing import Any

import psycopg

from cdcflow.engine.endpoints import DatabaseEndpoint


class EndpointUnreachable(Exception):
    """The database could not be reached or refused us; the message is safe to show (no DSN, no password)."""


def describe_error(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    lowered = text.lower()
    if "password authentication failed" in lowered or "authentication failed" in lowered:
        return "Authentication failed: wrong username or password"
    if "timeout" in lowered or "timed out" in lowered:
        return "Connection timed out"
    if "connection refused" in lowered:
        return "Connection refused: nothing listens on that host and port"
    if "does not exist" in lowered and "database" in lowered:
        return "Database does not exist"
    if "could not translate host name" in lowered or "name or service not known" in lowered:
        return "Unknown host"
    if "no pg_hba.conf entry" in lowered:
        return "The server does not allow this client (pg_hba.conf)"
    # libpq messages can embed "connection to server at "host" (ip), port N failed:" - keep only the reason.
    return text.split("failed:", 1)[-1].strip()[:300] or "Connection failed"


def open_connection(endpoint: DatabaseEndpoint, timeout: int, **kwargs: Any) -> psycopg.Connection:
    try:
        return psycopg.connect(**endpoint.libpq_kwargs(timeout), **kwargs)
    except psycopg.Error as exc:
        raise EndpointUnreachable(describe_error(exc)) from None


def _check(name: str, ok: bool, detail: str) -> dict[str, Any]:
    return {"name": name, "ok": ok, "detail": detail}


def test_connection(endpoint: DatabaseEndpoint, is_source: bool, tables: list[str], timeout: int) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        conn = open_connection(endpoint, timeout, autocommit=True)
    except EndpointUnreachable as exc:
        return {"ok": False, "error": str(exc), "server_version": None,
                "latency_ms": round((time.perf_counter() - started) * 1000, 1), "checks": []}
    with conn:
        conn.execute(f"SET statement_timeout = {int(timeout * 1000)}")
        version = conn.execute("SHOW server_version").fetchone()[0]
        latency = round((time.perf_counter() - started) * 1000, 1)
        checks = _source_preflight(conn, endpoint, tables) if is_source else _target_preflight(conn, endpoint)
    return {"ok": all(c["ok"] for c in checks), "error": None, "server_version": version, "latency_ms": latency,
            "checks": checks}


def _source_preflight(conn: psycopg.Connection, endpoint: DatabaseEndpoint, tables: list[str]) -> list[dict]:
    checks = []
    wal_level = conn.execute("SHOW wal_level").fetchone()[0]
    checks.append(_check("wal_level", wal_level == "logical",
                         f"wal_level is {wal_level}" + ("" if wal_level == "logical" else "; set wal_level=logical "
                                                        "and restart the server")))
    can_replicate = conn.execute(
        "SELECT rolreplication OR rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()[0]
    checks.append(_check("replication_privilege", bool(can_replicate),
                         f"user {endpoint.username} " + ("may" if can_replicate else "may not") +
                         " replicate" + ("" if can_replicate else f"; ALTER ROLE {endpoint.username} REPLICATION")))
    max_slots, used = conn.execute(
        "SELECT current_setting('max_replication_slots')::int, (SELECT count(*) FROM pg_replication_slots)"
    ).fetchone()
    free = max_slots - used
    checks.append(_check("free_replication_slots", free > 0, f"{free} of {max_slots} replication slots free"))
    if tables:
        info = {f"{t['schema']}.{t['table']}": t for t in list_tables(conn)}
        missing = [t for t in tables if t not in info]
        no_pk = [t for t in tables if t in info and not info[t]["primary_key"]]
        if missing:
            checks.append(_check("tables_exist", False, "not found: " + ", ".join(missing)))
        checks.append(_check("primary_keys", not no_pk,
                             "all selected tables have a primary key" if not no_pk
                             else "no primary key: " + ", ".join(no_pk)))
    return checks


def _target_preflight(conn: psycopg.Connection, endpoint: DatabaseEndpoint) -> list[dict]:
    can_create = conn.execute("SELECT has_database_privilege(current_user, current_database(), 'CREATE')"
                              ).fetchone()[0]
    return [_check("create_privilege", bool(can_create),
                   f"user {endpoint.username} " + ("can" if can_create else "cannot") +
                   " create schemas in this database")]


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
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%%'
  AND (%(schema)s::text IS NULL OR n.nspname = %(schema)s)
ORDER BY 1, 2
"""


def list_tables(conn: psycopg.Connection, schema: str | None = None) -> list[dict[str, Any]]:
    rows = conn.execute(_TABLES_SQL, {"schema": schema}).fetchall()
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
