"""MariaDB as a CDC source: catalog reads, a consistent snapshot with the binlog position it sees, rows read in it.

The hand-off without loss or duplicates: `START TRANSACTION WITH CONSISTENT SNAPSHOT` makes InnoDB's read view and,
in the same step, MariaDB records the binlog coordinates of exactly that view in the session status
`binlog_snapshot_file` / `binlog_snapshot_position` (no global lock: MariaDB takes them under the binlog's own
mutex, so every transaction committed before the position is in the snapshot and none after it). The load reads
every table in that transaction; the source connector is then created STOPPED, its offset set to that position
(Connect's PATCH /offsets), and resumed: the binlog from there on carries exactly the changes the snapshot did not
see. MariaDB cannot share one snapshot between sessions, so one session reads every table (parallel_readers = 1);
the target writes while the next batch is read (engine/fullload/rows.py).
"""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import pymysql
import pymysql.cursors

from cdcflow.engine.catalog import TableDef, read_named
from cdcflow.engine.mariadb.catalog import read_table
from cdcflow.engine.mariadb.session import connect, qi, qt
from cdcflow.engine.names import ResourceNames
from cdcflow.engine.ports import CapturePoint

def _neutral_value(value):
    """MariaDB's Python values as the neutral model has them: TIME (a timedelta to PyMySQL) as a time of day."""
    if isinstance(value, timedelta):
        return (datetime.min + value).time() if timedelta(0) <= value < timedelta(days=1) else value
    return value


class _SnapshotSession:
    """The one session holding the consistent snapshot; read_rows iterators take turns on it."""

    def __init__(self, conn: pymysql.Connection) -> None:
        self.conn, self.lock = conn, threading.Lock()


class MariaDbSource:
    database_type = "mariadb"
    position_in_connector = True

    def __init__(self, endpoint, timeout: int) -> None:
        self.endpoint, self.timeout = endpoint, timeout

    def _connect(self, **kwargs) -> pymysql.Connection:
        return connect(self.endpoint, self.timeout, **kwargs)

    def read_tables(self, names: list[str]) -> tuple[list[TableDef], list[str]]:
        with self._connect() as conn:
            return read_named(names, lambda schema, table: read_table(conn, schema, table))

    # Nothing to prepare: the binlog (ROW format, full row images; preflight checks them) covers every table.
    def prepare_capture(self, tables: list[TableDef], publication: str) -> bool:
        return False

    def prepare_signals(self, publication: str, schema: str, table: str) -> bool:
        return False  # incremental snapshots (resync) are PostgreSQL-only for now

    def drop_signal_table(self, schema: str, table: str) -> None:
        pass

    def drop_publication(self, publication: str) -> None:
        pass

    def capture_exists(self, names: ResourceNames) -> bool:
        return False  # the position lives in the source connector's offsets (position_in_connector)

    def slot_exists(self, slot: str) -> bool:
        return False

    def drop_slot(self, slot: str) -> None:
        pass

    def drop_capture(self, names: ResourceNames) -> None:
        pass

    def create_capture(self, names: ResourceNames) -> CapturePoint:
        with self._connect() as conn, conn.cursor() as cur:
            cur.execute("SHOW MASTER STATUS")
            row = cur.fetchone()
            if row is None:
                raise RuntimeError("the MariaDB server has no binary log (log_bin is off)")
            return CapturePoint(self._position(cur, row[0], int(row[1])))

    @staticmethod
    def _position(cur, file: str, pos: int) -> dict:
        cur.execute("SELECT BINLOG_GTID_POS(%s, %s)", (file, pos))
        gtids = cur.fetchone()[0]
        return {"file": file, "pos": pos, "gtids": gtids or None}

    @contextmanager
    def open_capture(self, names: ResourceNames, cdc: bool) -> Iterator[CapturePoint]:
        conn = self._connect(cursorclass=pymysql.cursors.SSCursor)
        try:
            with conn.cursor() as cur:
                cur.execute("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                cur.execute("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")
                cur.execute("SHOW SESSION STATUS LIKE 'binlog_snapshot_%'")
                status = {k.lower(): v for k, v in cur.fetchall()}
                file, pos = status.get("binlog_snapshot_file"), status.get("binlog_snapshot_position")
                if not file:
                    raise RuntimeError("the MariaDB server has no binary log (log_bin is off)")
            with self._connect() as side, side.cursor() as cur:
                position = self._position(cur, file, int(pos))
            yield CapturePoint(position, _SnapshotSession(conn))
        finally:
            conn.close()

    def parallel_readers(self, point: CapturePoint) -> int:
        return 1

    def read_rows(self, point: CapturePoint, table: TableDef, batch_rows: int) -> Iterator[list[tuple]]:
        session: _SnapshotSession = point.snapshot
        columns = ", ".join(qi(c.name) for c in table.columns)
        times = [i for i, c in enumerate(table.columns) if c.type.startswith("time(") or c.type.startswith("time ")]
        with session.lock, session.conn.cursor() as cur:
            cur.execute(f"SELECT {columns} FROM {qt(table.schema, table.name)}")
            while batch := cur.fetchmany(batch_rows):
                if times:
                    batch = [tuple(_neutral_value(v) if i in times else v for i, v in enumerate(row)) for row in batch]
                yield batch
