"""PostgreSQL as a CDC source: catalog reads, REPLICA IDENTITY FULL, publication, logical slot, snapshots."""

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from cdcflow.engine.endpoints import DatabaseEndpoint
from cdcflow.engine.postgres import replication, signals
from cdcflow.engine.postgres.ddl import TableDef, read_table
from cdcflow.engine.postgres.inspect import open_connection


class PostgresSource:
    def __init__(self, endpoint: DatabaseEndpoint, timeout: int) -> None:
        self.endpoint, self.timeout = endpoint, timeout

    def _connect(self) -> psycopg.Connection:
        return open_connection(self.endpoint, self.timeout, autocommit=True)

    def read_tables(self, names: list[str]) -> tuple[list[TableDef], list[str]]:
        found, missing = [], []
        with self._connect() as conn:
            for name in names:
                schema, table = name.split(".", 1)
                definition = read_table(conn, schema, table)
                (found.append(definition) if definition else missing.append(name))
        return found, missing

    def prepare_capture(self, tables: list[TableDef], publication: str) -> bool:
        with self._connect() as conn:
            replication.set_replica_identity_full(conn, tables)
            if replication.publication_exists(conn, publication):
                replication.set_publication_tables(conn, publication, tables)
                return False
            replication.create_publication(conn, publication, tables)
            return True

    def prepare_signals(self, publication: str, schema: str, table: str) -> bool:
        """The signal table in the publication; False (resync unavailable) when the user may not create it."""
        with self._connect() as conn:
            try:
                signals.ensure_signal_table(conn, publication, schema, table)
            except psycopg.errors.InsufficientPrivilege:
                return False
            return True

    def slot_exists(self, slot: str) -> bool:
        with self._connect() as conn:
            return replication.slot_info(conn, slot) is not None

    def create_slot(self, slot: str) -> str:
        with self._connect() as conn:
            return replication.create_slot(conn, slot)

    @contextmanager
    def slot_with_snapshot(self, slot: str) -> Iterator[tuple[str, str]]:
        with replication.slot_with_exported_snapshot(self.endpoint, slot, self.timeout) as (lsn, snapshot):
            yield lsn, snapshot

    @contextmanager
    def plain_snapshot(self) -> Iterator[tuple[str, str]]:
        conn = psycopg.connect(**self.endpoint.libpq_kwargs(self.timeout))
        try:
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            conn.read_only = True
            snapshot, lsn = conn.execute("SELECT pg_export_snapshot(), pg_current_wal_lsn()::text").fetchone()
            yield lsn, snapshot
        finally:
            conn.close()

    def drop_slot(self, slot: str) -> None:
        with self._connect() as conn:
            replication.drop_slot(conn, slot)

    def drop_publication(self, publication: str) -> None:
        with self._connect() as conn:
            replication.drop_publication(conn, publication)

    def drop_signal_table(self, schema: str, table: str) -> None:
        with self._connect() as conn:
            signals.drop_signal_table(conn, schema, table)
