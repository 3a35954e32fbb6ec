"""Thread-safe full-load progress, per table, read by the reporter that writes it to the metadata database."""

import threading
import time
from dataclasses import dataclass, field


@dataclass
class TableProgress:
    qualified: str
    rows_estimated: int | None     # None: unknown
    tasks_total: int = 0
    tasks_done: int = 0
    rows_exact: int = 0        # rows of finished tasks (COPY's own count)
    rows_in_flight: int = 0    # rows streamed by running tasks (one CopyData message per row)
    bytes: int = 0
    state: str = "PENDING"
    started_at: float | None = None
    completed_at: float | None = None
    error: str | None = None

    @property
    def rows(self) -> int:
        return self.rows_exact + self.rows_in_flight


@dataclass
class LoadProgress:
    tables: dict[str, TableProgress] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add_table(self, qualified: str, rows_estimated: int | None, tasks: int) -> None:
        self.tables[qualified] = TableProgress(qualified, rows_estimated, tasks_total=tasks)

    def task_started(self, qualified: str) -> None:
        with self._lock:
            t = self.tables[qualified]
            if t.started_at is None:
                t.started_at, t.state = time.time(), "COPYING"

    def streamed(self, qualified: str, rows: int, nbytes: int) -> None:
        with self._lock:
            t = self.tables[qualified]
            t.rows_in_flight += rows
            t.bytes += nbytes

    def task_done(self, qualified: str, streamed_rows: int, exact_rows: int) -> None:
        with self._lock:
            t = self.tables[qualified]
            t.rows_in_flight -= streamed_rows
            t.rows_exact += exact_rows
            t.tasks_done += 1

    def table_finished(self, qualified: str) -> None:
        with self._lock:
            t = self.tables[qualified]
            t.state, t.completed_at = "COMPLETED", time.time()

    def table_failed(self, qualified: str, error: str) -> None:
        with self._lock:
            t = self.tables[qualified]
            t.state, t.error = "FAILED", error

    def snapshot(self) -> list[TableProgress]:
        with self._lock:
            return [TableProgress(**{k: getattr(t, k) for k in TableProgress.__dataclass_fields__})
                    for t in self.tables.values()]
