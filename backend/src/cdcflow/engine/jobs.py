"""Background jobs of the API process (pipeline starts and stops), one at a time per pipeline, cancellable."""

import logging
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from cdcflow.core.logging import pipeline_id_var

logger = logging.getLogger(__name__)


class Cancelled(Exception):
    """A job stopped at a user's request (a stop pressed during a start)."""


class JobRunner:
    def __init__(self, max_workers: int = 4) -> None:
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="pipeline-job")
        self._jobs: dict[uuid.UUID, tuple[Future, threading.Event]] = {}
        self._lock = threading.Lock()

    def submit(self, pipeline_id: uuid.UUID, fn: Callable[[threading.Event], None]) -> None:
        cancel = threading.Event()

        def run() -> None:
            token = pipeline_id_var.set(str(pipeline_id))  # every log line of the job names its pipeline
            try:
                fn(cancel)
            except Exception:
                logger.exception("pipeline job failed", extra={"pipeline_id": str(pipeline_id)})
            finally:
                pipeline_id_var.reset(token)
                with self._lock:
                    if self._jobs.get(pipeline_id, (None,))[0] is future:
                        del self._jobs[pipeline_id]

        with self._lock:
            future = self._pool.submit(run)
            self._jobs[pipeline_id] = (future, cancel)

    def active(self, pipeline_id: uuid.UUID) -> bool:
        with self._lock:
            job = self._jobs.get(pipeline_id)
            return job is not None and not job[0].done()

    def active_ids(self) -> list[uuid.UUID]:
        with self._lock:
            return [pid for pid, (future, _) in self._jobs.items() if not future.done()]

    def cancel(self, pipeline_id: uuid.UUID) -> bool:
        with self._lock:
            job = self._jobs.get(pipeline_id)
        if job is None:
            return False
        job[1].set()
        return True

    def wait(self, pipeline_id: uuid.UUID, timeout: float | None = None) -> None:
        with self._lock:
            job = self._jobs.get(pipeline_id)
        if job is not None:
            job[0].exception(timeout=timeout)

    def shutdown(self) -> None:
        with self._lock:
            for _, cancel in self._jobs.values():
                cancel.set()
        self._pool.shutdown(wait=True, cancel_futures=True)
