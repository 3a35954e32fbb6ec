"""Plan and run a full load: split large tables into key ranges, copy in parallel, report progress."""

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass

from psycopg import sql

from cdcflow.engine.endpoints import DatabaseEndpoint
from cdcflow.engine.fullload.copier import CopyTask, copy_task, open_snapshot_reader
from cdcflow.engine.fullload.progress import LoadProgress
from cdcflow.engine.postgres.ddl import TableDef

logger = logging.getLogger(__name__)
INTEGER_TYPES = {"smallint", "integer", "bigint"}


@dataclass(frozen=True)
class LoadTable:
    source: TableDef
    binary: bool            # source and target column types are identical
    rows_estimated: int


@dataclass(frozen=True)
class LoadOptions:
    workers: int = 4
    split_rows: int = 500_000     # tables estimated above this are copied in key ranges
    max_ranges: int = 8
    timeout: int = 10


def plan(source: DatabaseEndpoint, snapshot: str, tables: list[LoadTable], options: LoadOptions) -> list[CopyTask]:
    """One task per table, or several key ranges for a large table with a single integer primary key."""
    tasks: list[tuple[int, CopyTask]] = []
    with open_snapshot_reader(source, snapshot, options.timeout) as conn:
        for t in tables:
            pk = t.source.primary_key
            pk_type = next((c.type for c in t.source.columns if pk and c.name == pk[0]), None)
            if len(pk) == 1 and pk_type in INTEGER_TYPES and t.rows_estimated > options.split_rows:
                low, high = conn.execute(sql.SQL("SELECT min({k}), max({k}) FROM {t}").format(
                    k=sql.Identifier(pk[0]), t=t.source.ident)).fetchone()
                if low is not None:
                    parts = min(options.max_ranges, max(2, t.rows_estimated // options.split_rows))
                    step = max(1, (high - low + parts) // parts)
                    bounds = list(range(low, high + 1, step)) + [high + 1]
                    share = t.rows_estimated // (len(bounds) - 1)
                    tasks += [(share, CopyTask(t.source, t.binary, (a, b))) for a, b in zip(bounds, bounds[1:])]
                    continue
            tasks.append((t.rows_estimated, CopyTask(t.source, t.binary)))
    # Largest first, so the long poles start early and the pool drains evenly.
    return [task for _, task in sorted(tasks, key=lambda x: -x[0])]


def run_full_load(source: DatabaseEndpoint, target: DatabaseEndpoint, snapshot: str, tables: list[LoadTable],
                  options: LoadOptions, cancel: threading.Event,
                  report: Callable[[LoadProgress], None] | None = None) -> LoadProgress:
    """Copy every table inside `snapshot`; `report` is called about once a second from this thread."""
    tasks = plan(source, snapshot, tables, options)
    progress = LoadProgress()
    for t in tables:
        progress.add_table(t.source.qualified, t.rows_estimated,
                           sum(1 for task in tasks if task.table.qualified == t.source.qualified))
    remaining = {t.source.qualified: progress.tables[t.source.qualified].tasks_total for t in tables}
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=max(1, options.workers), thread_name_prefix="fullload") as pool:
        futures = {pool.submit(copy_task, source, target, snapshot, task, progress, cancel, options.timeout): task
                   for task in tasks}
        pending = set(futures)
        while pending:
            done, pending = wait(pending, timeout=1.0, return_when=FIRST_EXCEPTION)
            for future in done:
                task = futures[future]
                error = future.exception()
                if error is not None:
                    cancel.set()  # the other workers stop at their next chunk
                    progress.table_failed(task.table.qualified, f"{type(error).__name__}: {error}")
                    if report:
                        report(progress)
                    wait(pending)
                    raise error
                remaining[task.table.qualified] -= 1
                if remaining[task.table.qualified] == 0:
                    progress.table_finished(task.table.qualified)
            if report:
                report(progress)
    total = sum(t.rows for t in progress.tables.values())
    logger.info("full load copied %d rows in %d tables (%d tasks) in %.1fs", total, len(tables), len(tasks),
                time.monotonic() - started)
    return progress
