"""Plan and run a full load: split large tables into key ranges, copy in parallel, report progress."""

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass

from cdcflow.engine.endpoints import DatabaseEndpoint
from cdcflow.engine.fullload.copier import CopyTask, copy_task, open_snapshot_reader
from cdcflow.engine.fullload.estimate import estimate_rows, table_pages
from cdcflow.engine.fullload.progress import LoadProgress
from cdcflow.engine.postgres.ddl import TableDef

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoadTable:
    source: TableDef
    binary: bool            # source and target column types are identical
    rows_estimated: int      # from the catalog when the pipeline was saved; plan() reads a fresh one


@dataclass(frozen=True)
class LoadOptions:
    workers: int = 4
    split_rows: int = 500_000     # tables estimated above this are copied in block ranges
    max_ranges: int = 8
    timeout: int = 10


def plan(source: DatabaseEndpoint, snapshot: str, tables: list[LoadTable],
         options: LoadOptions) -> tuple[list[CopyTask], dict[str, int | None]]:
    """One task per table, or block ranges (by ctid) for a table estimated above `split_rows` rows; and the row
    estimate of each table, read in the snapshot (None: unknown)."""
    tasks: list[tuple[int, CopyTask]] = []
    estimates: dict[str, int | None] = {}
    with open_snapshot_reader(source, snapshot, options.timeout) as conn:
        for t in tables:
            estimate = estimate_rows(conn, t.source)
            estimates[t.source.qualified] = estimate
            rows = estimate if estimate is not None else t.rows_estimated
            parts = min(options.max_ranges, -(-rows // options.split_rows))
            if parts < 2:
                tasks.append((rows, CopyTask(t.source, t.binary)))
                continue
            pages = table_pages(conn, t.source)
            step = max(1, -(-pages // parts))
            bounds = list(range(0, pages, step))
            # The last range is open-ended: blocks added after the size was read hold no row of this snapshot.
            ranges = [(a, b) for a, b in zip(bounds, bounds[1:])] + [(bounds[-1] if bounds else 0, None)]
            share = rows // len(ranges)
            tasks += [(share, CopyTask(t.source, t.binary, r)) for r in ranges]
    # Largest first, so the long poles start early and the pool drains evenly.
    return [task for _, task in sorted(tasks, key=lambda x: -x[0])], estimates


def run_full_load(source: DatabaseEndpoint, target: DatabaseEndpoint, snapshot: str, tables: list[LoadTable],
                  options: LoadOptions, cancel: threading.Event,
                  report: Callable[[LoadProgress], None] | None = None) -> LoadProgress:
    """Copy every table inside `snapshot`; `report` is called about once a second from this thread."""
    tasks, estimates = plan(source, snapshot, tables, options)
    progress = LoadProgress()
    for t in tables:
        progress.add_table(t.source.qualified, estimates[t.source.qualified],
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
