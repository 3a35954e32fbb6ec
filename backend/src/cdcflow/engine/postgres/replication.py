"""Source preparation for logical replication: primary keys, REPLICA IDENTITY FULL, publication, slot."""

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql

from cdcflow.engine.endpoints import DatabaseEndpoint
from cdcflow.engine.postgres.ddl import TableDef, ident


def tables_without_primary_key(tables: list[TableDef]) -> list[str]:
    return [t.qualified for t in tables if not t.primary_key]


def set_replica_identity_full(conn: psycopg.Connection, tables: list[TableDef]) -> None:
    """FULL: the old row travels whole, so an unchanged TOAST value is never replaced by a placeholder."""
    for t in tables:
        replident = conn.execute("SELECT relreplident FROM pg_class WHERE oid = %s::regclass",
                                 (f'"{t.schema}"."{t.name}"',)).fetchone()[0]
        if replident != "f":
            conn.execute(sql.SQL("ALTER TABLE {} REPLICA IDENTITY FULL").format(ident(t)))


def publication_exists(conn: psycopg.Connection, name: str) -> bool:
    return conn.execute("SELECT 1 FROM pg_publication WHERE pubname = %s", (name,)).fetchone() is not None


def create_publication(conn: psycopg.Connection, name: str, tables: list[TableDef]) -> None:
    conn.execute(sql.SQL("CREATE PUBLICATION {} FOR TABLE {}").format(
        sql.Identifier(name), sql.SQL(", ").join(ident(t) for t in tables)))


def set_publication_tables(conn: psycopg.Connection, name: str, tables: list[TableDef]) -> None:
    conn.execute(sql.SQL("ALTER PUBLICATION {} SET TABLE {}").format(
        sql.Identifier(name), sql.SQL(", ").join(ident(t) for t in tables)))


def drop_publication(conn: psycopg.Connection, name: str) -> None:
    conn.execute(sql.SQL("DROP PUBLICATION IF EXISTS {}").format(sql.Identifier(name)))


def slot_info(conn: psycopg.Connection, name: str) -> dict | None:
    row = conn.execute("SELECT active, active_pid, confirmed_flush_lsn::text, wal_status FROM pg_replication_slots "
                       "WHERE slot_name = %s", (name,)).fetchone()
    if row is None:
        return None
    return {"active": row[0], "active_pid": row[1], "confirmed_flush_lsn": row[2], "wal_status": row[3]}


def create_slot(conn: psycopg.Connection, name: str) -> str:
    """A slot without an exported snapshot (CDC only); returns its consistent point."""
    return conn.execute("SELECT lsn::text FROM pg_create_logical_replication_slot(%s, 'pgoutput')",
                        (name,)).fetchone()[0]


def drop_slot(conn: psycopg.Connection, name: str, terminate_active: bool = True) -> None:
    info = slot_info(conn, name)
    if info is None:
        return
    if info["active"] and terminate_active and info["active_pid"]:
        conn.execute("SELECT pg_terminate_backend(%s)", (info["active_pid"],))
        conn.execute("SELECT pg_sleep(0.5)")
    conn.execute("SELECT pg_drop_replication_slot(%s)", (name,))


@contextmanager
def slot_with_exported_snapshot(endpoint: DatabaseEndpoint, name: str, timeout: int) -> Iterator[tuple[str, str]]:
    """CREATE_REPLICATION_SLOT ... EXPORT_SNAPSHOT on a replication connection; yields (consistent_point,
    snapshot name). The snapshot stays importable until the block ends, so the full load runs inside it."""
    conn = psycopg.connect(**endpoint.libpq_kwargs(timeout), replication="database", autocommit=True)
    try:
        command = f'CREATE_REPLICATION_SLOT "{name}" LOGICAL pgoutput EXPORT_SNAPSHOT'.encode()
        result = conn.pgconn.exec_(command)
        if result.status != psycopg.pq.ExecStatus.TUPLES_OK:
            message = (result.error_message or b"").decode(errors="replace").strip()
            raise psycopg.OperationalError(f"could not create replication slot {name}: {message}")
        consistent_point = result.get_value(0, 1).decode()
        snapshot = result.get_value(0, 2).decode()
        yield consistent_point, snapshot
    finally:
        conn.close()
