"""Copy one table, or one key range of it, from a source snapshot to the target with streamed COPY."""

import threading
from dataclasses import dataclass

import psycopg
from psycopg import sql

from cdcflow.engine.endpoints import DatabaseEndpoint
from cdcflow.engine.fullload.progress import LoadProgress
from cdcflow.engine.postgres.ddl import TableDef


class Cancelled(Exception):
    pass


@dataclass(frozen=True)
class CopyTask:
    table: TableDef
    binary: bool
    key_range: tuple[int, int] | None = None   # [low, high) on the single integer primary key column

    @property
    def label(self) -> str:
        if self.key_range is None:
            return self.table.qualified
        return f"{self.table.qualified}[{self.key_range[0]}, {self.key_range[1]})"


def _columns(table: TableDef) -> sql.Composable:
    return sql.SQL(", ").join(sql.Identifier(c.name) for c in table.columns)


def _copy_out(task: CopyTask, fmt: sql.SQL) -> sql.Composed:
    if task.key_range is None:
        return sql.SQL("COPY {} ({}) TO STDOUT (FORMAT {})").format(task.table.ident, _columns(task.table), fmt)
    key = sql.Identifier(task.table.primary_key[0])
    query = sql.SQL("SELECT {} FROM {} WHERE {} >= {} AND {} < {}").format(
        _columns(task.table), task.table.ident, key, sql.Literal(task.key_range[0]), key,
        sql.Literal(task.key_range[1]))
    return sql.SQL("COPY ({}) TO STDOUT (FORMAT {})").format(query, fmt)


def open_snapshot_reader(endpoint: DatabaseEndpoint, snapshot: str, timeout: int) -> psycopg.Connection:
    """A source connection inside the exported snapshot: REPEATABLE READ, READ ONLY, SET TRANSACTION SNAPSHOT."""
    conn = psycopg.connect(**endpoint.libpq_kwargs(timeout))
    conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    conn.read_only = True
    conn.execute(sql.SQL("SET TRANSACTION SNAPSHOT {}").format(sql.Literal(snapshot)))
    return conn


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
        with src.cursor() as reader, dst.cursor() as writer:
            copy_in = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT {})").format(task.table.ident,
                                                                          _columns(task.table), fmt)
            with reader.copy(_copy_out(task, fmt)) as out, writer.copy(copy_in) as into:
                pending_rows = pending_bytes = 0
                for chunk in out:
                    into.write(chunk)
                    pending_rows += 1
                    pending_bytes += len(chunk)
                    if pending_rows >= 2000:
                        if cancel.is_set():
                            raise Cancelled("full load cancelled")
                        progress.streamed(qualified, pending_rows, pending_bytes)
                        streamed += pending_rows
                        pending_rows = pending_bytes = 0
                progress.streamed(qualified, pending_rows, pending_bytes)
                streamed += pending_rows
            rows = writer.rowcount
        dst.commit()
    progress.task_done(qualified, streamed, rows)
    return rows
