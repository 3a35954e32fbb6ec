"""One leader per cluster of API processes: a PostgreSQL session-level advisory lock held on a dedicated connection.

Services that act on the data plane from a loop (the reconciler, the schema watcher) must run once per cluster, not
once per API process: two reconcilers would race each other's ERROR/RUNNING verdicts, two schema watchers would
apply one change twice. Each process runs a ClusterLeader; the one whose connection holds the lock runs them, the
others wait. The lock lives as long as its connection: when the leader's process dies (kill -9, power loss) its
connection closes, PostgreSQL releases the lock and another process takes it at its next try (every `interval`
seconds). A leader whose connection breaks (database restart, network) stops leading at once and tries again on a
new connection. Chosen over a lease row: no clock, no heartbeat to tune, and release is PostgreSQL's job.

The lock's holder is visible in pg_locks / pg_stat_activity (application_name `cdcflow-leader <identity>`).
"""

import logging
import threading
from collections.abc import Callable

import psycopg

from cdcflow.core.loop import LoopService

logger = logging.getLogger(__name__)
# pg_try_advisory_lock(key): any bigint the rest of the schema does not use; this one spells "cdcflow" in hex-ish.
LEADER_LOCK_KEY = 0x0CDCF10E
APPLICATION_PREFIX = "cdcflow-leader"


class ClusterLeader:
    def __init__(self, dsn: str, identity: str, interval: float = 2.0, connect_timeout: int = 5,
                 key: int = LEADER_LOCK_KEY) -> None:
        self.dsn = dsn.replace("postgresql+psycopg://", "postgresql://", 1)  # a SQLAlchemy URL works too
        self.identity, self.interval, self.connect_timeout, self.key = identity, interval, connect_timeout, key
        self._conn: psycopg.Connection | None = None
        self._leading = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()  # one thread at a time on the connection

    def is_leader(self) -> bool:
        return self._leading.is_set()

    def step(self) -> bool:
        """One try: keep (checked with a round trip) or take the lock. Returns whether this process leads now."""
        with self._lock:
            try:
                if self._conn is None or self._conn.closed:
                    self._conn = psycopg.connect(
                        self.dsn, autocommit=True, connect_timeout=self.connect_timeout,
                        application_name=f"{APPLICATION_PREFIX} {self.identity}"[:63])
                if self._leading.is_set():
                    # Still ours as long as the session lives; a round trip proves it does.
                    held = self._conn.execute(
                        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() "
                        "AND granted AND objid = %s", (self.key & 0xFFFFFFFF,)).fetchone()[0] > 0
                else:
                    held = bool(self._conn.execute("SELECT pg_try_advisory_lock(%s)", (self.key,))
                                .fetchone()[0])
            except psycopg.Error as exc:
                if self._leading.is_set():
                    logger.warning("lost the cluster leader lock (its connection failed: %s)", exc)
                self._drop()
                return False
            if held and not self._leading.is_set():
                logger.info("this process is now the cluster leader (%s)", self.identity)
                self._leading.set()
            elif not held and self._leading.is_set():
                logger.warning("lost the cluster leader lock")
                self._leading.clear()
            return held

    def _drop(self) -> None:
        self._leading.clear()
        if self._conn is not None:
            try:
                self._conn.close()
            except psycopg.Error:
                pass
            self._conn = None

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="cluster-leader", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.step()
            self._stop.wait(self.interval)

    def stop(self, timeout: float = 10) -> None:
        """Closing the connection releases the lock: another process leads from its next try."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        with self._lock:
            self._drop()


def leader_only(service: LoopService, is_leader: Callable[[], bool]) -> LoopService:
    """`service` runs its passes only while this process leads; the loop itself keeps going, so a process that
    becomes leader starts working within one interval. (A wrapper rather than a change to each service.)"""
    inner = service.run_once

    def run_once() -> None:
        if is_leader():
            inner()

    service.run_once = run_once  # type: ignore[method-assign]
    return service
