"""The connection Test: connect, then check what a pipeline will need from a source or a target."""

import time
from typing import Any

import psycopg

from cdcflow.engine.endpoints import DatabaseEndpoint
from cdcflow.engine.names import SIGNAL_SCHEMA
from cdcflow.engine.postgres.inspect import COULD_NOT_CONNECT, EndpointUnreachable, list_tables, open_connection
from cdcflow.engine.postgres.signals import signal_table_problem

LISTED_NAMES = 20

SUPERUSER_SOURCE_ADVICE = (
    "cdcflow works with it, but this password then opens the whole server to anyone who can read or redirect it. "
    "Use a role with LOGIN and REPLICATION, SELECT on the captured tables and ownership of them (cdcflow sets "
    "REPLICA IDENTITY FULL and creates the publication), as Debezium's documentation recommends")
SUPERUSER_TARGET_ADVICE = (
    "cdcflow works with it, but this password then opens the whole server to anyone who can read or redirect it. "
    "Use a role with CREATE on this database (to create the target schemas and tables) and nothing more")


def _check(name: str, ok: bool, detail: str, warning: bool = False) -> dict[str, Any]:
    return {"name": name, "ok": ok, "detail": detail, "warning": warning}


def _names(names: list[str]) -> str:
    shown = ", ".join(names[:LISTED_NAMES])
    return shown if len(names) <= LISTED_NAMES else f"{shown} and {len(names) - LISTED_NAMES} more"


def test_connection(endpoint: DatabaseEndpoint, is_source: bool, tables: list[str], timeout: int) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        conn = open_connection(endpoint, timeout, autocommit=True)
    except EndpointUnreachable as exc:
        if str(exc) == COULD_NOT_CONNECT:
            # A refused port answers at once, a filtered one after the timeout, a non-PostgreSQL service after
            # its banner: every failure takes the full timeout so the latency tells nothing either.
            time.sleep(max(0.0, timeout - (time.perf_counter() - started)))
        return {"ok": False, "error": str(exc), "server_version": None,
                "latency_ms": round((time.perf_counter() - started) * 1000, 1), "checks": []}
    with conn:
        conn.execute(f"SET statement_timeout = {int(timeout * 1000)}")
        version = conn.execute("SHOW server_version").fetchone()[0]
        latency = round((time.perf_counter() - started) * 1000, 1)
        checks = _source_preflight(conn, endpoint, tables) if is_source else _target_preflight(conn, endpoint)
    # A failed warning (a feature that will not work) does not fail the test; the check says which feature.
    return {"ok": all(c["ok"] or c["warning"] for c in checks), "error": None, "server_version": version,
            "latency_ms": latency, "checks": checks}


def _role(conn: psycopg.Connection) -> tuple[bool, bool]:
    """(may replicate, is superuser) for the connected role."""
    row = conn.execute("SELECT rolreplication, rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()
    return bool(row and row[0]), bool(row and row[1])


def _superuser_check(endpoint: DatabaseEndpoint, advice: str) -> dict[str, Any]:
    return _check("superuser", True, f"user {endpoint.username} is a PostgreSQL superuser. {advice}.", warning=True)


def _source_preflight(conn: psycopg.Connection, endpoint: DatabaseEndpoint, tables: list[str]) -> list[dict]:
    checks = []
    wal_level = conn.execute("SHOW wal_level").fetchone()[0]
    checks.append(_check("wal_level", wal_level == "logical",
                         f"wal_level is {wal_level}" + ("" if wal_level == "logical" else "; set wal_level=logical "
                                                        "and restart the server")))
    replication, superuser = _role(conn)
    can_replicate = replication or superuser
    checks.append(_check("replication_privilege", can_replicate,
                         f"user {endpoint.username} " + ("may" if can_replicate else "may not") +
                         " replicate" + ("" if can_replicate else f"; ALTER ROLE {endpoint.username} REPLICATION")))
    if superuser:
        checks.append(_superuser_check(endpoint, SUPERUSER_SOURCE_ADVICE))
    max_slots, used = conn.execute(
        "SELECT current_setting('max_replication_slots')::int, (SELECT count(*) FROM pg_replication_slots)"
    ).fetchone()
    free = max_slots - used
    checks.append(_check("free_replication_slots", free > 0, f"{free} of {max_slots} replication slots free"))
    # Resync and adding a table to a running pipeline write Debezium's signal table: the same test they make.
    signal = signal_table_problem(conn, SIGNAL_SCHEMA)
    # A failure is a warning: the pipeline starts and streams without it.
    checks.append(_check("signal_table", signal is None,
                         f"user {endpoint.username} can create the signal table for resync and add-table in schema "
                         f"{SIGNAL_SCHEMA}" if signal is None else f"resync and add-table cannot work: {signal}",
                         warning=signal is not None))
    if tables:
        info = {f"{t['schema']}.{t['table']}": t for t in list_tables(conn)}
        missing = [t for t in tables if t not in info]
        no_pk = [t for t in tables if t in info and not info[t]["primary_key"]]
        if missing:
            checks.append(_check("tables_exist", False, "not found: " + _names(missing)))
        checks.append(_check("primary_keys", not no_pk,
                             "all selected tables have a primary key" if not no_pk
                             else "no primary key: " + _names(no_pk)))
        if not superuser:
            # REPLICA IDENTITY FULL and adding a table to the publication (at start, or added later) need ownership.
            found = [t for t in tables if t in info]
            owned = {f"{r[0]}.{r[1]}" for r in conn.execute(
                "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE (n.nspname, c.relname) IN (SELECT * FROM unnest(%s::text[], %s::text[])) "
                "AND pg_has_role(c.relowner, 'USAGE')",
                ([t.split(".", 1)[0] for t in found], [t.split(".", 1)[1] for t in found])).fetchall()}
            foreign = [t for t in found if t not in owned]
            checks.append(_check("table_ownership", not foreign,
                                 f"user {endpoint.username} owns the selected tables" if not foreign else
                                 f"user {endpoint.username} does not own (REPLICA IDENTITY FULL and the publication "
                                 f"need it): " + _names(foreign)))
    return checks


def _target_preflight(conn: psycopg.Connection, endpoint: DatabaseEndpoint) -> list[dict]:
    can_create = conn.execute("SELECT has_database_privilege(current_user, current_database(), 'CREATE')"
                              ).fetchone()[0]
    checks = [_check("create_privilege", bool(can_create),
                     f"user {endpoint.username} " + ("can" if can_create else "cannot") +
                     " create schemas in this database")]
    if _role(conn)[1]:
        checks.append(_superuser_check(endpoint, SUPERUSER_TARGET_ADVICE))
    return checks
