"""Copy one table, or one block range of it, from a source snapshot to the target with streamed COPY.

The hot loop talks to libpq directly (get_copy_data / put_copy_data on 256 KB buffers): one C call per row on the
way in, one per buffer on the way out. psycopg's Copy objects cost a Python generator round trip per row, which on
a 2-core machine was a fifth of the whole load.
"""

import threading
from dataclasses import dataclass

import psycopg
from psycopg import pq, sql

from cdcflow.engine.endpoints import DatabaseEndpoint
from cdcflow.engine.fullload.progress import LoadProgress
from cdcflow.engine.jobs import Cancelled
from cdcflow.engine.postgres.ddl import TableDef, ident

BUFFER_BYTES = 256 * 1024
REPORT_EVERY_ROWS = 5000


class CopyFailed(Exception):
    pass


@dataclass(frozen=True)
class CopyTask:
    table: TableDef
    binary: bool
    pages: tuple[int, int | None] | None = None   # [first block, last block) by ctid; None = the whole table

    @property
    def label(self) -> str:
        if self.pages is None:
            return self.table.qualified
        return f"{self.table.qualified}[blocks {self.pages[0]}..{self.pages[1] or 'end'}]"


def _columns(table: TableDef) -> sql.Composable:
    return sql.SQL(", ").join(sql.Identifier(c.name) for c in table.columns)


def copy_out_sql(task: CopyTask, fmt: sql.SQL) -> sql.Composed:
    if task.pages is None:
        return sql.SQL("COPY {} ({}) TO STDOUT (FORMAT {})").format(ident(task.table), _columns(task.table), fmt)
    # A TID range scan reads just these blocks; every row version visible in the snapshot has exactly one ctid,
    # so the ranges partition the table exactly.
    first, last = task.pages
    where = sql.SQL("ctid >= {}::tid").format(sql.Literal(f"({first},0)"))
    if last is not None:
        where = sql.SQL("{} AND ctid < {}::tid").format(where, sql.Literal(f"({last},0)"))
    query = sql.SQL("SELECT {} FROM {} WHERE {}").format(_columns(task.table), ident(task.table), where)
    return sql.SQL("COPY ({}) TO STDOUT (FORMAT {})").format(query, fmt)


def open_snapshot_reader(endpoint: DatabaseEndpoint, snapshot: str, timeout: int) -> psycopg.Connection:
    """A source connection inside the exported snapshot: REPEATABLE READ, READ ONLY, SET TRANSACTION SNAPSHOT."""
    conn = psycopg.connect(**endpoint.libpq_kwargs(timeout))
    conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    conn.read_only = True
    conn.execute(sql.SQL("SET TRANSACTION SNAPSHOT {}").format(sql.Literal(snapshot)))
    return conn


def _start_copy(conn: psycopg.Connection, statement: sql.Composed, expected: pq.ExecStatus) -> pq.PGconn:
    pgconn = conn.pgconn
    pgconn.nonblocking = 0  # plain blocking libpq calls in the hot loop
    pgconn.send_query(statement.as_bytes(conn))
    result = pgconn.get_result()
    if result is None or result.status != expected:
        message = (result.error_message if result is not None else pgconn.error_message) or b""
        raise CopyFailed(message.decode(errors="replace").strip())
    return pgconn


def _finish(pgconn: pq.PGconn) -> int:
    """Collect the COPY's final result; its row count."""
    rows, error = 0, None
    while (result := pgconn.get_result()) is not None:
        if result.status == pq.ExecStatus.COMMAND_OK:
            rows = result.command_tuples or 0
        elif result.status != pq.ExecStatus.COPY_OUT:
            error = (result.error_message or b"").decode(errors="replace").strip()
    if error:
        raise CopyFailed(error)
    return rows


def copy_task(source: DatabaseEndpoint, target: DatabaseEndpoint, snapshot: str, task: CopyTask,
              progress: LoadProgress, cancel: threading.Event, timeout: int) -> int:
    """Stream the task's rows; returns the number of rows COPY reported on the target."""
    fmt = sql.SQL("binary" if task.binary else "text")
    qualified = task.table.qualified
    progress.task_started(qualified)
    streamed = 0
    with open_snapshot_reader(source, snapshot, timeout) as src, \
            psycopg.connect(**target.libpq_kwargs(timeout)) as dst:
        dst.execute("SET synchronous_commit = off")
        copy_in = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT {})").format(ident(task.table), _columns(task.table), fmt)
        reader = _start_copy(src, copy_out_sql(task, fmt), pq.ExecStatus.COPY_OUT)
        writer = _start_copy(dst, copy_in, pq.ExecStatus.COPY_IN)
        get, put = reader.get_copy_data, writer.put_copy_data
        buffer, pending_rows, pending_bytes = bytearray(), 0, 0
        try:
            while True:
                size, data = get(0)
                if size < 0:
                    if size == -2:
                        raise CopyFailed(reader.error_message.decode(errors="replace").strip())
                    break
                buffer += data
                pending_rows += 1
                if len(buffer) >= BUFFER_BYTES:
                    if put(bytes(buffer)) != 1:
                        raise CopyFailed(writer.error_message.decode(errors="replace").strip())
                    pending_bytes += len(buffer)
                    buffer.clear()
                if pending_rows >= REPORT_EVERY_ROWS:
                    if cancel.is_set():
                        raise Cancelled("full load cancelled")
                    progress.streamed(qualified, pending_rows, pending_bytes)
                    streamed += pending_rows
                    pending_rows = pending_bytes = 0
            _finish(reader)
            if buffer:
                put(bytes(buffer))
                pending_bytes += len(buffer)
            progress.streamed(qualified, pending_rows, pending_bytes)
            streamed += pending_rows
            writer.put_copy_end(None)
            rows = _finish(writer)
        except BaseException as exc:
            if writer.transaction_status == pq.TransactionStatus.ACTIVE:
                writer.put_copy_end(f"aborted: {type(exc).__name__}".encode())
                try:
                    _finish(writer)
                except CopyFailed:
                    pass
            raise
        dst.commit()
    progress.task_done(qualified, streamed, rows)
    return rows
