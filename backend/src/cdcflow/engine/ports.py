"""The two ports the engine talks to databases through: what a pipeline needs from a source and from a target.

PostgreSQL (engine/postgres/source.py, target.py) and MariaDB (engine/mariadb/source.py, target.py) implement both.
A new database implements SourcePort and/or TargetPort over the neutral table model (engine/catalog.py) and is
chosen here by its connection's database_type; docs/architecture.md lists the other files such a change touches.

The start sequence (pipelines/lifecycle_jobs.py) speaks only in these terms: a *capture* is what keeps the source's change
stream for the pipeline (PostgreSQL: a replication slot; MariaDB: the binlog, positioned by the source connector's
stored offset), a *capture point* is a consistent snapshot together with the position where streaming must start
so that nothing read in the snapshot is missed or applied twice.
"""

from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol

from cdcflow.engine.catalog import TableDef
from cdcflow.engine.endpoints import DatabaseEndpoint
from cdcflow.engine.names import ResourceNames


@dataclass(frozen=True)
class CapturePoint:
    position: dict[str, Any]     # PostgreSQL {"lsn"}; MariaDB {"file", "pos", "gtids"}: where streaming starts
    snapshot: Any = field(default=None, compare=False)   # the source's handle for reading rows inside the snapshot

    @property
    def label(self) -> str:
        """The position as one string, for run metadata (PostgreSQL keeps the bare LSN, as before)."""
        if set(self.position) == {"lsn"}:
            return str(self.position["lsn"])
        return ",".join(f"{k}={v}" for k, v in self.position.items() if v not in (None, ""))


class SourcePort(Protocol):
    database_type: str
    # True when the capture's position lives in the source connector's Connect offsets (MariaDB), False when it
    # lives in the source database (a PostgreSQL slot).
    position_in_connector: bool

    def read_tables(self, names: list[str]) -> tuple[list[TableDef], list[str]]:
        """Definitions of the named schema.table entries, and the names that were not found."""

    def prepare_capture(self, tables: list[TableDef], publication: str) -> bool:
        """Make the tables capturable (replica identity, publication); True if something was created that
        drop_publication undoes."""

    def prepare_signals(self, publication: str, schema: str, table: str) -> bool:
        """A table Debezium takes incremental snapshot requests from; False if unavailable."""

    def drop_signal_table(self, schema: str, table: str) -> None: ...

    def capture_exists(self, names: ResourceNames) -> bool:
        """Whether the source holds this pipeline's capture (only meaningful when not position_in_connector)."""

    def open_capture(self, names: ResourceNames, cdc: bool) -> AbstractContextManager[CapturePoint]:
        """Create the capture (if `cdc`) and a consistent snapshot at its start position; rows are read inside it
        with read_rows until the block ends."""

    def create_capture(self, names: ResourceNames) -> CapturePoint:
        """A capture starting now, without a snapshot (CDC only, or a completed load)."""

    def drop_capture(self, names: ResourceNames) -> None: ...

    def drop_publication(self, publication: str) -> None: ...

    def parallel_readers(self, point: CapturePoint) -> int:
        """How many read_rows iterators may run at once inside the capture point's snapshot."""

    def read_rows(self, point: CapturePoint, table: TableDef, batch_rows: int) -> Iterator[list[tuple]]:
        """The table's rows as seen in the snapshot, in batches; values as Python objects (json as text, times
        in UTC)."""

    def slot_exists(self, slot: str) -> bool: ...

    def drop_slot(self, slot: str) -> None: ...


class TargetPort(Protocol):
    database_type: str

    def ensure_tables(self, tables: list[TableDef]) -> list[tuple[TableDef, bool]]:
        """Create missing tables without primary keys (added after the load by add_primary_keys);
        returns (target definition, needs its primary key) per table."""

    def truncate(self, tables: list[TableDef]) -> None: ...

    def add_primary_keys(self, tables: list[TableDef]) -> None: ...

    def write_rows(self, table: TableDef, batches: Iterator[list[tuple]], on_batch) -> int:
        """Bulk-write every batch (columns in table.columns order) in one transaction; `on_batch(rows, bytes)`
        after each; returns the rows written."""


def source_adapter(endpoint: DatabaseEndpoint, timeout: int) -> SourcePort:
    if endpoint.database_type == "postgresql":
        from cdcflow.engine.postgres.source import PostgresSource

        return PostgresSource(endpoint, timeout)
    if endpoint.database_type == "mariadb":
        from cdcflow.engine.mariadb.source import MariaDbSource

        return MariaDbSource(endpoint, timeout)
    raise ValueError(f"unsupported source database type {endpoint.database_type}")


def target_adapter(endpoint: DatabaseEndpoint, timeout: int) -> TargetPort:
    if endpoint.database_type == "postgresql":
        from cdcflow.engine.postgres.target import PostgresTarget

        return PostgresTarget(endpoint, timeout)
    if endpoint.database_type == "mariadb":
        from cdcflow.engine.mariadb.target import MariaDbTarget

        return MariaDbTarget(endpoint, timeout)
    raise ValueError(f"unsupported target database type {endpoint.database_type}")
