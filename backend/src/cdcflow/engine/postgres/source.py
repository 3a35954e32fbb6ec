"""PostgreSQL as a CDC source: catalog reads, REPLICA IDENTITY FULL, publication, logical slot, snapshots."""

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql
from psycopg.types.string import TextLoader

from cdcflow.engine.endpoints import DatabaseEndpoint
from cdcflow.engine.names import ResourceNames
from cdcflow.engine.ports import CapturePoint
from cdcflow.engine.postgres import replication, signals
from cdcflow.engine.catalog import read_named
from cdcflow.engine.postgres.ddl import TableDef, read_table
from cdcflow.engine.postgres.inspect import open_connection


class PostgresSource:
    database_type = "postgresql"
    position_in_connector = False

    def __init__(self, endpoint: DatabaseEndpoint, timeout: int) -> None:
        self.endpoint, self.timeout = endpoint, timeout

    def _connect(self) -> psycopg.Connection:
        return open_connection(self.endpoint, self.timeout, autocommit=True)

    def read_tables(self, names: list[str]) -> tuple[list[TableDef], list[str]]:
        with self._connect() as conn:
            return read_named(names, lambda schema, table: read_table(conn, schema, table))

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

    # --- the capture, in the ports' terms: a logical slot, and its exported snapshot for the load

    def capture_exists(self, names: ResourceNames) -> bool:
        return self.slot_exists(names.slot)

    @contextmanager
    def open_capture(self, names: ResourceNames, cdc: bool) -> Iterator[CapturePoint]:
        with (self.slot_with_snapshot(names.slot) if cdc else self.plain_snapshot()) as (lsn, snapshot):
            yield CapturePoint({"lsn": lsn}, snapshot)

    def create_capture(self, names: ResourceNames) -> CapturePoint:
        return CapturePoint({"lsn": self.create_slot(names.slot)})

    def drop_capture(self, names: ResourceNames) -> None:
        self.drop_slot(names.slot)

    def parallel_readers(self, point: CapturePoint) -> int:
        return 64  # any number of sessions can import an exported snapshot

    def read_rows(self, point: CapturePoint, table: TableDef, batch_rows: int) -> Iterator[list[tuple]]:
        from cdcflow.engine.fullload.copier import open_snapshot_reader

        with open_snapshot_reader(self.endpoint, point.snapshot, self.timeout) as conn:
            conn.execute("SET TimeZone = 'UTC'")
            for name in ("json", "jsonb"):  # as PostgreSQL prints it: the target parses the text itself
                conn.adapters.register_loader(name, TextLoader)
            columns = sql.SQL(", ").join(sql.Identifier(c.name) for c in table.columns)
            with conn.cursor(name="cdcflow_rows") as cur:
                cur.itersize = batch_rows
                cur.execute(sql.SQL("SELECT {} FROM {}").format(columns, sql.Identifier(table.schema, table.name)))
                while batch := cur.fetchmany(batch_rows):
                    yield batch
