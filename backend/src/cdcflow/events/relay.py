"""Socket.IO emission across processes: every event logger (in an API process or `cdcflow event-logger`) announces
the ids of the events it committed with PostgreSQL NOTIFY; every API process LISTENs, reads those events back and
hands them to its own Realtime, which applies the room authorization and the per-room cap as for local events.

Why PostgreSQL LISTEN/NOTIFY rather than python-socketio's client managers: every process already holds the
metadata database, so the channel adds no service to run, secure or monitor (the Redis and AMQP managers need a
broker cdcflow does not run; the Kafka manager needs another Kafka client library and would put whole event payloads,
row values included, on a topic readable by anything on the broker). A notification carries only ids (payloads stay
far under NOTIFY's 8000-byte limit); the rows are read by the API process under its own database role. The
trade-off: a notification is not queued for a listener that is disconnected at that moment, so an API process whose
database connection drops misses the live pushes of those seconds (the events are stored all the same and the page
reads them through GET /monitoring/events). A logger sends its NOTIFY inside the transaction that stores the batch
(events/store.py), so a notification goes out exactly when, and only if, its events are committed.
"""

import logging
import threading
import time
from collections.abc import Callable

import orjson
import psycopg

from cdcflow.events.store import CHANNEL, StoredEvent

logger = logging.getLogger(__name__)
_SELECT = ("SELECT id, pipeline_id, event_type, table_name, source_lsn, latency_ms, kafka_topic, kafka_partition, "
           "kafka_offset, started_at, run_metadata::text FROM pipeline_runs WHERE id = ANY(%s) AND deleted_at IS NULL "
           "ORDER BY id")


def parse_note(payload: str) -> tuple[str | None, list[int]]:
    """(pipeline id, event ids) of a notification: `<pipeline id>:<id>,<id>,...` (events/store.py)."""
    pipeline_id, _, ids = payload.rpartition(":")
    return pipeline_id or None, [int(i) for i in ids.split(",") if i]


def _plain_dsn(dsn: str) -> str:
    return dsn.replace("postgresql+psycopg://", "postgresql://", 1)


class RealtimeRelay:
    """LISTENs on a dedicated connection (re-made when lost) and publishes what any logger stored."""

    def __init__(self, dsn: str, publish: Callable[[list[StoredEvent]], None],
                 watched: Callable[[str], bool] = lambda pipeline_id: True) -> None:
        # `watched`: does a socket of this process listen to the pipeline's room? Events of pipelines nobody
        # watches here are not read back at all (at 1,000 changes/s, reading every event back, jsonb included, was
        # a quarter of an API process's CPU, in every API process, with no browser open).
        self.dsn, self.publish, self.watched = _plain_dsn(dsn), publish, watched
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.listening = threading.Event()
        self.relayed = 0

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="realtime-relay", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with psycopg.connect(self.dsn, autocommit=True, connect_timeout=5) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self.listening.set()
                    while not self._stop.is_set():
                        if ids := self._next_ids(conn):
                            self._relay(conn, ids)
            except Exception as exc:  # noqa: BLE001  (the relay outlives a database outage)
                self.listening.clear()
                logger.warning("realtime relay: %s; listening again in 1 s", exc)
                self._stop.wait(1)
        self.listening.clear()

    def _next_ids(self, conn: psycopg.Connection) -> list[int]:
        """The ids of the next notifications of watched pipelines: waits up to 0.25 s for one (then looks at the stop
        flag again), then takes what came with it (a logger's commit delivers its notifications together) without
        waiting more than 10 ms for each next one: an event is not held back for a fixed collection window."""
        ids: list[int] = []
        timeout, deadline = 0.25, time.monotonic() + 0.5
        while len(ids) < 2000 and time.monotonic() < deadline:
            notes = list(conn.notifies(timeout=timeout, stop_after=1))  # one, or the few read in the same packet
            if not notes:
                break
            for note in notes:
                pipeline_id, note_ids = parse_note(note.payload)
                if pipeline_id is None or self.watched(pipeline_id):
                    ids += note_ids
            timeout = 0.01
        return ids

    def _relay(self, conn: psycopg.Connection, ids: list[int]) -> None:
        rows = conn.execute(_SELECT, (ids,)).fetchall()
        events = [StoredEvent(id=r[0], pipeline_id=str(r[1]), event_type=r[2], table_name=r[3], source_lsn=r[4],
                              latency_ms=r[5], kafka_topic=r[6], kafka_partition=r[7], kafka_offset=r[8],
                              created_at=r[9].isoformat(),
                              run_metadata=None if r[10] is None else orjson.loads(r[10])) for r in rows]
        if events:
            self.relayed += len(events)
            self.publish(events)
