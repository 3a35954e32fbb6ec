"""The event logger loop: consume the pipelines' change topics, store each batch, commit offsets, announce.

Order per batch: parse -> store (one transaction) -> commit Kafka offsets (synchronously) -> emit. A crash between
store and offset commit replays the batch, which the unique keys absorb: no event is lost or stored twice.

Two batches overlap: while a writer thread stores batch N (the database works, the GIL is free), this thread
consumes and parses batch N+1; batch N's offsets are committed and its events announced once its transaction
committed, always in batch order. At most one batch is in flight, so a crash replays at most two batches.

The logger's state (logger_state.py) follows what it observes: an error is current until the kind of success that
ends it (a broker round trip, a database write), then it moves to the history.
"""

import logging
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import psycopg
from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

from cdcflow.events.logger_state import DATABASE, EMIT, INTERNAL, KAFKA, LoggerStats
from cdcflow.events.parser import Malformed, parse
from cdcflow.events.store import EventStore, StoredEvent

logger = logging.getLogger(__name__)
# Expected after a pipeline is deleted: the regex subscription still lists its topics for a metadata refresh or two
# ("Subscribed topic not available", "desired partition is no longer available"). Not an error of the logger.
GONE_TOPIC = (KafkaError.UNKNOWN_TOPIC_OR_PART, KafkaError._UNKNOWN_PARTITION, KafkaError._UNKNOWN_TOPIC)
DEFAULT_TOPIC_REGEX = r"^cdcflow\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.[^.]+\..+"


@dataclass
class LoggerConfig:
    bootstrap_servers: str
    database_url: str
    group_id: str = "cdcflow-event-logger"
    topic_regex: str = DEFAULT_TOPIC_REGEX
    # Up to batch_size events per transaction, but never waiting longer than poll_timeout for a batch to fill: at
    # a trickle each event is stored within ~0.1 s; in a burst the per-statement costs (triggers, commit, offset
    # commit) are shared by thousands of events.
    batch_size: int = 5000
    poll_timeout: float = 0.1
    direct_copy: bool = True  # see events/store.py; False only to measure the staging path
    # NOTIFY each batch's new ids in its own transaction, for the API processes' relays (events/relay.py).
    notify: bool = False
    metadata_refresh_ms: int = 5000


class EventLogger:
    def __init__(self, config: LoggerConfig, on_stored: Callable[[list[StoredEvent]], None] | None = None) -> None:
        self.config = config
        self.on_stored = on_stored
        self.stats = LoggerStats()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._consumer: Consumer | None = None
        self._assigned: list[TopicPartition] = []
        # Offsets this logger committed (or found committed once, on assignment; -1: none): the lag check reads them
        # here instead of asking the group coordinator every pass. A group request that times out and is answered
        # late can crash a long-lived librdkafka client (confluentinc/librdkafka#4605): ask as rarely as possible.
        self._committed: dict[tuple[str, int], int] = {}
        self._known_pipelines: set[uuid.UUID] = set()
        self._known_topics: set[str] = set()  # topics of pipelines found to exist
        self._partitions: list[dict[str, Any]] = []
        self._lag_checked_at = 0.0
        self._lag_checked_wall: float | None = None
        # The batch being stored by the writer thread: (its write, its offsets, how many events it holds).
        self._pending: tuple[Future, dict[tuple[str, int], int], int] | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self.run, name="event-logger", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 15) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def run(self) -> None:
        """Consume until stopped; errors are recorded and the loop goes on after a pause."""
        self.stats.running, self.stats.started_at = True, time.time()
        store = EventStore(self.config.database_url, direct=self.config.direct_copy, notify=self.config.notify)
        writer = ThreadPoolExecutor(1, thread_name_prefix="event-logger-store")
        try:
            while not self._stop.is_set():
                try:
                    if DATABASE in self.stats.errors.current:
                        store.ping()  # events may not flow: find out by asking whether the database is back
                        self.stats.errors.resolve(DATABASE)
                    self._consume(store, writer)
                except Exception as exc:
                    kind = DATABASE if isinstance(exc, psycopg.Error) else \
                        KAFKA if isinstance(exc, KafkaException) else INTERNAL
                    self.stats.errors.report(kind, f"{type(exc).__name__}: {exc}")
                    self._drop_pending()
                    store.close()
                    self._close_consumer()
                    self._stop.wait(2)
            self._settle()  # stopping: the batch in flight is committed, not replayed
        except Exception as exc:  # noqa: BLE001  (stopping anyway; its events are replayed and absorbed)
            self.stats.errors.report(INTERNAL, f"{type(exc).__name__}: {exc}")
        finally:
            self._drop_pending()
            writer.shutdown(wait=True)
            self._close_consumer()
            store.close()
            self.stats.running = False

    def _on_client_error(self, error: KafkaError) -> None:
        """Global client errors (broker down, all brokers down, name resolution): served from consume()."""
        if error.code() in GONE_TOPIC:
            logger.debug("event logger: %s", error.str())
            return
        self.stats.errors.report(KAFKA, f"broker: {error.str()}")

    def _broker_answered(self) -> None:
        self.stats.connected_at = self.stats.connected_at or time.time()
        self.stats.errors.resolve(KAFKA)

    def _close_consumer(self) -> None:
        if self._consumer is not None:
            try:
                self._consumer.close()
            except Exception:  # noqa: BLE001  (already broken)
                pass
            self._consumer, self._assigned = None, []
            self._committed.clear()

    def _new_consumer(self) -> Consumer:
        consumer = Consumer({
            "bootstrap.servers": self.config.bootstrap_servers,
            "group.id": self.config.group_id,
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
            "topic.metadata.refresh.interval.ms": self.config.metadata_refresh_ms,
            "partition.assignment.strategy": "cooperative-sticky",
            "session.timeout.ms": 10000,
            "heartbeat.interval.ms": 3000,
            "error_cb": self._on_client_error,
            # The broker closes idle connections; that is not an error worth a line or a state change.
            "log.connection.close": False,
        })

        def on_assign(c, partitions):
            self._assigned = sorted(set(self._assigned) | {TopicPartition(p.topic, p.partition) for p in partitions},
                                    key=lambda p: (p.topic, p.partition))

        def on_revoke(c, partitions):
            gone = {(p.topic, p.partition) for p in partitions}
            self._assigned = [p for p in self._assigned if (p.topic, p.partition) not in gone]
            for key in gone:  # another member may commit it meanwhile: ask again if it comes back
                self._committed.pop(key, None)

        consumer.subscribe([self.config.topic_regex], on_assign=on_assign, on_revoke=on_revoke, on_lost=on_revoke)
        return consumer

    # ------------------------------------------------------------------ the loop

    def _consume(self, store: EventStore, writer: ThreadPoolExecutor) -> None:
        if self._consumer is None:
            self._consumer = self._new_consumer()
        if time.monotonic() - self._lag_checked_at > 2:
            self._refresh_lag()
        if self._pending is not None and self._pending[0].done():
            self._settle()
        # While a batch is being stored, look back soon: its offsets and announcement should not wait a whole poll.
        timeout = self.config.poll_timeout if self._pending is None else min(self.config.poll_timeout, 0.01)
        messages = self._consumer.consume(self.config.batch_size, timeout)
        if not messages:
            return
        events, offsets = [], {}
        for msg in messages:
            if msg.error() is not None:
                code = msg.error().code()
                if code in GONE_TOPIC:
                    logger.debug("event logger: %s", msg.error())
                elif code != KafkaError._PARTITION_EOF:
                    self.stats.errors.report(KAFKA, f"consume: {msg.error()}")
                continue
            topic, partition, offset = msg.topic(), msg.partition(), msg.offset()
            offsets[(topic, partition)] = offset + 1
            try:
                event = parse(topic, partition, offset, msg.key(), msg.value())
            except (Malformed, ValueError) as exc:
                self._reject(msg, str(exc))
                continue
            if event is None:
                self.stats.tombstones += 1
            elif topic in self._known_topics:  # a str hashes in C, a UUID in Python
                events.append(event)
            elif not self._pipeline_exists(store, event.pipeline_id):
                self._reject(msg, f"no pipeline {event.pipeline_id}")
            else:
                self._known_topics.add(topic)
                events.append(event)
        self._settle()  # batch order: N's offsets are committed before N+1 is written
        if not offsets:
            return
        self._pending = (writer.submit(store.write, events), offsets, len(events))

    def _settle(self) -> None:
        """Wait for the batch in flight; once stored, commit its offsets and announce it. A failed write raises
        (its offsets stay uncommitted, so the batch is read again)."""
        if self._pending is None:
            return
        future, offsets, count = self._pending
        try:
            stored = future.result()
        finally:
            self._pending = None
        self.stats.errors.resolve(DATABASE)
        self.stats.stored += len(stored)
        self.stats.duplicates += count - len(stored)
        self.stats.record(len(stored))
        self.stats.last_batch_at = time.time()
        self._consumer.commit(offsets=[TopicPartition(t, p, o) for (t, p), o in offsets.items()],
                              asynchronous=False)
        self._committed.update(offsets)
        self._broker_answered()
        if stored and self.on_stored is not None:
            try:
                self.on_stored(stored)
                self.stats.errors.resolve(EMIT)
            except Exception as exc:  # announcing is best effort; the events are safe
                self.stats.errors.report(EMIT, f"emit: {exc}")

    def _drop_pending(self) -> None:
        """After an error: let the write in flight finish (the store is not shared mid-write) and forget it; its
        offsets stay uncommitted, so its events are read again and the unique keys absorb them."""
        if self._pending is not None:
            future, self._pending = self._pending[0], None
            try:
                future.result()
            except Exception:  # noqa: BLE001  (already being handled as the logger's error)
                pass

    def _reject(self, msg, reason: str) -> None:
        self.stats.rejected += 1
        logger.warning("event logger rejected %s[%d]@%d: %s", msg.topic(), msg.partition(), msg.offset(), reason)

    def _pipeline_exists(self, store: EventStore, pipeline_id: uuid.UUID) -> bool:
        if pipeline_id in self._known_pipelines:
            return True
        with psycopg.connect(store.dsn, connect_timeout=10) as conn:
            found = conn.execute("SELECT 1 FROM pipelines WHERE id = %s", (pipeline_id,)).fetchone() is not None
        if found:
            self._known_pipelines.add(pipeline_id)
        return found

    # ------------------------------------------------------------------ status

    def _refresh_lag(self) -> None:
        """Run by the consumer's own thread (a confluent-kafka consumer must not be shared across threads):
        committed offsets in one request, high watermarks from the fetcher's cache. Also the logger's broker
        probe: an answer ends a current broker error."""
        consumer, assigned = self._consumer, list(self._assigned)
        partitions: list[dict[str, Any]] = [{"topic": tp.topic, "partition": tp.partition} for tp in assigned]
        if consumer is not None and not assigned:
            try:
                consumer.list_topics(timeout=2)
                self._broker_answered()
            except KafkaException as exc:
                self.stats.errors.report(KAFKA, f"broker: {exc.args[0].str() if exc.args else exc}")
        if consumer is not None and assigned:
            try:
                unknown = [TopicPartition(tp.topic, tp.partition) for tp in assigned
                           if (tp.topic, tp.partition) not in self._committed]
                if unknown:  # newly assigned: what the group committed before (once per assignment)
                    for done in consumer.committed(unknown, timeout=5):
                        self._committed[(done.topic, done.partition)] = done.offset if done.offset >= 0 else -1
                for entry, tp in zip(partitions, assigned):
                    try:
                        low, high = consumer.get_watermark_offsets(tp, cached=True)
                        if high < 0:  # not fetched yet: ask the broker
                            low, high = consumer.get_watermark_offsets(tp, timeout=1, cached=False)
                    except KafkaException as exc:
                        if not (exc.args and getattr(exc.args[0], "code", lambda: None)() in GONE_TOPIC):
                            raise
                        # Its topic was deleted with its pipeline: the next rebalance revokes it. Not an error of
                        # the logger's (it made every other pipeline's health read "cannot consume" for seconds).
                        entry["gone"] = True
                        continue
                    done = self._committed.get((tp.topic, tp.partition), -1)
                    position = done if done >= 0 else max(low, 0)
                    entry.update(committed=position, high_watermark=high if high >= 0 else None,
                                 lag=max(0, high - position) if high >= 0 else None)
                self._broker_answered()
            except Exception as exc:  # noqa: BLE001  (lag is informative; consumption goes on)
                for entry in partitions:
                    entry["error"] = str(exc)
                self.stats.errors.report(KAFKA, f"broker: {exc}")
        self._partitions, self._lag_checked_at, self._lag_checked_wall = partitions, time.monotonic(), time.time()

    def status(self) -> dict[str, Any]:
        partitions = self._partitions
        alive = self._thread is not None and self._thread.is_alive()
        return {**self.stats.public(alive), "group_id": self.config.group_id, "topic_regex": self.config.topic_regex,
                "assigned_partitions": partitions, "lag_checked_at": self._lag_checked_wall,
                "total_lag": sum(p.get("lag") or 0 for p in partitions)}
