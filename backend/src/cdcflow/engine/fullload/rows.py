"""The full load between different databases: rows read by the source port inside its snapshot, written in batches
by the target port (PostgreSQL: COPY; MariaDB: multi-row INSERT). PostgreSQL to PostgreSQL keeps its faster
COPY-to-COPY path (copier.py).

Each table is one task; tasks run in parallel up to what the source's snapshot allows (parallel_readers). Inside a
task a reader thread fetches the next batch while the target writes the previous one.
"""

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from contextlib import closing

from cdcflow.engine.catalog import TableDef
from cdcflow.engine.jobs import Cancelled
from cdcflow.engine.fullload.progress import LoadProgress
from cdcflow.engine.ports import CapturePoint, SourcePort, TargetPort

logger = logging.getLogger(__name__)

BATCH_ROWS = 5000
QUEUE_BATCHES = 4
_DONE = object()


def _load_table(source: SourcePort, target: TargetPort, point: CapturePoint, table: TableDef,
                progress: LoadProgress, cancel: threading.Event) -> int:
    qualified = table.qualified
    progress.task_started(qualified)
    handoff: queue.Queue = queue.Queue(maxsize=QUEUE_BATCHES)
    stop = threading.Event()

    def put(item) -> None:
        while not stop.is_set():
            try:
                handoff.put(item, timeout=0.5)
                return
            except queue.Full:
                continue

    def produce() -> None:
        try:
            with closing(source.read_rows(point, table, BATCH_ROWS)) as batches:
                for batch in batches:
                    if cancel.is_set():
                        raise Cancelled("full load cancelled")
                    if stop.is_set():
                        return
                    put(batch)
            put(_DONE)
        except BaseException as exc:
            put(exc)

    def consume() -> Iterator[list[tuple]]:
        while True:
            item = handoff.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    reader = threading.Thread(target=produce, name=f"rows-{qualified}", daemon=True)
    reader.start()
    streamed = 0

    def on_batch(rows: int, nbytes: int) -> None:
        nonlocal streamed
        streamed += rows
        progress.streamed(qualified, rows, nbytes)

    try:
        rows = target.write_rows(table, consume(), on_batch)
    finally:
        stop.set()
        reader.join()
    progress.task_done(qualified, streamed, rows)
    return rows


def run_row_load(source: SourcePort, target: TargetPort, point: CapturePoint, tables: list[TableDef],
                 workers: int, cancel: threading.Event, report: Callable[[LoadProgress], None] | None = None,
                 estimates: dict[str, int] | None = None) -> LoadProgress:
    """`estimates`: rows per table as the catalog last said (progress percentages); None where unknown."""
    progress = LoadProgress()
    for t in tables:
        progress.add_table(t.qualified, (estimates or {}).get(t.qualified) or None, 1)
    started = time.monotonic()
    parallel = max(1, min(workers, source.parallel_readers(point), len(tables) or 1))
    with ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="rowload") as pool:
        futures = {pool.submit(_load_table, source, target, point, t, progress, cancel): t for t in tables}
        pending = set(futures)
        while pending:
            done, pending = wait(pending, timeout=1.0, return_when=FIRST_EXCEPTION)
            for future in done:
                table = futures[future]
                error = future.exception()
                if error is not None:
                    cancel.set()
                    progress.table_failed(table.qualified, f"{type(error).__name__}: {error}")
                    if report:
                        report(progress)
                    wait(pending)
                    raise error
                progress.table_finished(table.qualified)
            if report:
                report(progress)
    logger.info("row load copied %d rows in %d tables (%d readers) in %.1fs",
                sum(t.rows for t in progress.tables.values()), len(tables), parallel, time.monotonic() - started)
    return progress
