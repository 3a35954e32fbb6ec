"""The two ports the engine talks to databases through: what a pipeline needs from a source and from a target.

PostgreSQL implements both (engine/postgres/source.py, target.py). A new database implements SourcePort and/or
TargetPort over the neutral table model (engine/catalog.py) and is chosen here by its connection's database_type;
docs/architecture.md lists the other files such a change touches.
"""

from contextlib import AbstractContextManager
from typing import Protocol

from cdcflow.engine.catalog import TableDef
from cdcflow.engine.endpoints import DatabaseEndpoint


class SourcePort(Protocol):
    def read_tables(self, names: list[str]) -> tuple[list[TableDef], list[str]]:
        """Definitions of the named schema.table entries, and the names that were not found."""

    def prepare_capture(self, tables: list[TableDef], publication: str) -> bool:
        """Make the tables capturable (replica identity, publication); True if the publication was created."""

    def prepare_signals(self, publication: str, schema: str, table: str) -> bool:
        """A table Debezium takes incremental snapshot requests from, in the publication; False if impossible."""

    def drop_signal_table(self, schema: str, table: str) -> None: ...

    def slot_exists(self, slot: str) -> bool: ...

    def create_slot(self, slot: str) -> str: ...

    def slot_with_snapshot(self, slot: str) -> AbstractContextManager[tuple[str, str]]:
        """Create the slot and export a snapshot at its consistent point: (lsn, snapshot name)."""

    def plain_snapshot(self) -> AbstractContextManager[tuple[str, str]]:
        """A snapshot with no slot (full load only): (current lsn, snapshot name)."""

    def drop_slot(self, slot: str) -> None: ...

    def drop_publication(self, publication: str) -> None: ...


class TargetPort(Protocol):
    def ensure_tables(self, tables: list[TableDef]) -> list[tuple[TableDef, bool]]:
        """Create missing tables without primary keys (added after the load by add_primary_keys);
        returns (target definition, needs its primary key) per table."""

    def truncate(self, tables: list[TableDef]) -> None: ...

    def add_primary_keys(self, tables: list[TableDef]) -> None: ...


def source_adapter(endpoint: DatabaseEndpoint, timeout: int) -> SourcePort:
    if endpoint.database_type == "postgresql":
        from cdcflow.engine.postgres.source import PostgresSource

        return PostgresSource(endpoint, timeout)
    raise ValueError(f"unsupported source database type {endpoint.database_type}")


def target_adapter(endpoint: DatabaseEndpoint, timeout: int) -> TargetPort:
    if endpoint.database_type == "postgresql":
        from cdcflow.engine.postgres.target import PostgresTarget

        return PostgresTarget(endpoint, timeout)
    raise ValueError(f"unsupported target database type {endpoint.database_type}")

