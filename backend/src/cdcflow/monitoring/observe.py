"""Fresh observations of the data plane, each taken with a short timeout so one dead component never stalls the
others: the broker's metadata, Kafka Connect's connector statuses, the sink's consumer group against the topics'
high watermarks, and the source's replication slot (with the WAL it retains and, where readable, the free disk).

No judgement here: monitoring/health.py turns observations into problems.
"""

import logging
import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from confluent_kafka import Consumer, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient

from cdcflow.core.config import Settings
from cdcflow.engine.connect.client import ConnectClient, ConnectError
from cdcflow.engine.endpoints import DatabaseEndpoint
from cdcflow.engine.postgres.inspect import describe_error

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", ""}


@dataclass(frozen=True)
class Reach:
    """Whether a component answered a fresh request, and when it was asked."""

    ok: bool
    at: float
    error: str | None = None


@dataclass(frozen=True)
class ConnectObservation(Reach):
    statuses: dict[str, dict[str, Any]] | None = None   # connector name -> GET /connectors/{name}/status body


@dataclass(frozen=True)
class SlotObservation:
    at: float
    exists: bool = False
    error: str | None = None           # the source could not be asked
    active: bool | None = None
    active_pid: int | None = None
    wal_status: str | None = None      # reserved | extended | unreserved | lost
    retained_bytes: int | None = None  # pg_current_wal_lsn() - restart_lsn: WAL the source keeps for the slot
    lag_bytes: int | None = None       # pg_current_wal_lsn() - confirmed_flush_lsn
    safe_wal_size: int | None = None   # bytes left before max_slot_wal_keep_size drops the slot's WAL
    max_slot_wal_keep_size: str | None = None
    wal_dir_bytes: int | None = None
    free_disk_bytes: int | None = None
    disk_note: str | None = None       # how free disk was read, or why it is unknown


@dataclass(frozen=True)
class SinkProgress:
    """The sink's committed offsets against the high watermarks, with when they last moved."""

    at: float
    committed: int
    lag: int
    last_advance_at: float
    lag_at_advance: int
    # When the sink last had nothing waiting (or, never seen so, when this process first looked).
    caught_up_at: float | None = None

    def stalled_for(self, now: float) -> float:
        """Seconds without a commit while messages wait (and more arrived); 0 when it keeps up or advances."""
        if self.lag <= 0 or self.lag <= self.lag_at_advance:
            return 0.0
        return max(0.0, now - self.last_advance_at)

    def behind_for(self, now: float) -> float:
        """Seconds since the sink last had nothing waiting; 0 while it keeps up."""
        if self.lag <= 0:
            return 0.0
        return max(0.0, now - (self.caught_up_at if self.caught_up_at is not None else self.at))


def kafka_error(exc: BaseException) -> str:
    if isinstance(exc, KafkaException) and exc.args and hasattr(exc.args[0], "str"):
        return exc.args[0].str()
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


# Short-lived clients, made per probe: librdkafka's admin group APIs can crash a long-lived client when a response
# arrives after the request timed out (confluentinc/librdkafka#4605), which is exactly what a restarting broker does.
# Their connection-failure logs are not served (no poll): the health problem says the broker is down, once.
_QUIET = {"log.connection.close": False, "socket.connection.setup.timeout.ms": 2000,
          "logger": logging.getLogger("cdcflow.monitoring.kafka-probe")}


def probe_broker(bootstrap: str, timeout: float) -> tuple[Reach, dict[str, Any]]:
    """The broker's metadata (a request, never a cache): reachability and the topics with their partitions."""
    now = time.time()
    try:
        metadata = AdminClient({"bootstrap.servers": bootstrap, **_QUIET}).list_topics(timeout=timeout)
    except Exception as exc:  # noqa: BLE001  (any failure means "not reachable now")
        return Reach(False, now, f"Kafka broker unreachable: {kafka_error(exc)}"), {}
    if not metadata.brokers:
        return Reach(False, now, "Kafka broker unreachable: no broker in the metadata"), {}
    return Reach(True, now), metadata.topics


@dataclass(frozen=True)
class PartitionOffsets:
    topic: str
    partition: int
    committed: int | None   # None: the group has committed nothing for this partition
    low: int
    high: int


def group_offsets(bootstrap: str, group: str, partitions: list[TopicPartition],
                  timeout: float) -> list[PartitionOffsets]:
    """A group's committed offsets and each partition's watermarks. A consumer carrying the group's id reads its
    commits without joining it (it never subscribes), so the group's members never rebalance because of it."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False, **_QUIET})
    try:
        found = []
        # A generous timeout: a group request answered after it timed out is what crashes librdkafka (#4605); the
        # monitor does not wait for this probe beyond its own deadline (a slow one shows as unresponsive).
        for tp in consumer.committed(partitions, timeout=max(timeout * 5, 10)):
            low, high = consumer.get_watermark_offsets(TopicPartition(tp.topic, tp.partition), timeout=timeout,
                                                       cached=False)
            found.append(PartitionOffsets(tp.topic, tp.partition, tp.offset if tp.offset >= 0 else None, low, high))
        return found
    finally:
        consumer.close()


def probe_sinks(bootstrap: str, topics: dict[str, Any], pipelines: dict[uuid.UUID, list[str]],
                previous: dict[uuid.UUID, SinkProgress], timeout: float) -> dict[uuid.UUID, SinkProgress]:
    """Per pipeline: offsets committed by the sink's group (`connect-cdcflow-<id>-sink`) vs the high watermarks.
    `previous` carries when the committed total last moved, which is what "not advancing" needs."""
    now = time.time()
    result: dict[uuid.UUID, SinkProgress] = {}
    for pid, names in pipelines.items():
        partitions = [TopicPartition(t, p) for t in names if t in topics for p in topics[t].partitions]
        if not partitions:
            continue
        offsets = group_offsets(bootstrap, f"connect-cdcflow-{pid}-sink", partitions, timeout)
        # No commit yet: everything in the partition is pending.
        committed = sum(o.committed or 0 for o in offsets)
        lag = sum(max(0, o.high - (o.committed or 0)) for o in offsets)
        before = previous.get(pid)
        caught_up = now if lag == 0 or before is None else before.caught_up_at
        if before is None or committed != before.committed or lag == 0:
            result[pid] = SinkProgress(now, committed, lag, now, lag, caught_up)
        else:
            result[pid] = SinkProgress(now, committed, lag, before.last_advance_at, before.lag_at_advance, caught_up)
    return result


def probe_connect(settings: Settings, timeout: float) -> ConnectObservation:
    now = time.time()
    try:
        with ConnectClient.from_settings(settings, timeout=timeout) as connect:
            statuses = connect.all_statuses()
    except ConnectError as exc:
        message = str(exc)
        if "Timeout" in message:
            message = f"Kafka Connect unresponsive (no answer within {timeout:.0f} s): {message}"
        return ConnectObservation(False, now, message)
    return ConnectObservation(True, now, None, statuses)


SLOTS = """
SELECT slot_name, active, active_pid, wal_status, safe_wal_size,
       pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint,
       pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint
FROM pg_replication_slots WHERE slot_name = ANY(%s)
"""


def probe_slots(endpoint: DatabaseEndpoint, slots: list[str], timeout: int) -> dict[str, SlotObservation]:
    """All of one source's slots in one round trip, plus what can be learnt about its disk."""
    now = time.time()
    try:
        with psycopg.connect(**endpoint.libpq_kwargs(timeout), autocommit=True,
                             options=f"-c statement_timeout={int(timeout * 1000)}") as conn:
            rows = {r[0]: r for r in conn.execute(SLOTS, (slots,)).fetchall()}
            keep = conn.execute("SELECT current_setting('max_slot_wal_keep_size')").fetchone()[0]
            disk = _disk(conn, endpoint)
    except psycopg.Error as exc:
        return {slot: SlotObservation(now, error=f"source unreachable: {describe_error(exc)}") for slot in slots}
    found = {}
    for slot in slots:
        row = rows.get(slot)
        if row is None:
            found[slot] = SlotObservation(now, exists=False, max_slot_wal_keep_size=keep, **disk)
            continue
        found[slot] = SlotObservation(now, exists=True, active=row[1], active_pid=row[2], wal_status=row[3],
                                      safe_wal_size=row[4], retained_bytes=row[5], lag_bytes=row[6],
                                      max_slot_wal_keep_size=keep, **disk)
    return found


def _disk(conn: psycopg.Connection, endpoint: DatabaseEndpoint) -> dict[str, Any]:
    """WAL directory size (pg_ls_waldir: superuser or pg_monitor) and free disk. SQL cannot read free space, so it
    is only known when the source runs on this machine and its data directory is visible here; otherwise it is
    reported as unknown, with the reason."""
    figures: dict[str, Any] = {"wal_dir_bytes": None, "free_disk_bytes": None}
    try:
        figures["wal_dir_bytes"] = conn.execute("SELECT coalesce(sum(size), 0)::bigint FROM pg_ls_waldir()"
                                                ).fetchone()[0]
        data_dir = conn.execute("SELECT current_setting('data_directory')").fetchone()[0]
    except psycopg.errors.InsufficientPrivilege:
        return {**figures, "disk_note": "unknown: reading the source's disk needs superuser or pg_monitor"}
    except psycopg.Error as exc:
        return {**figures, "disk_note": f"unknown: {describe_error(exc)}"}
    if endpoint.host not in LOCAL_HOSTS:
        return {**figures, "disk_note": "unknown: the source runs on another host (SQL cannot read free space)"}
    wal_dir = Path(data_dir) / "pg_wal"
    try:
        if not (Path(data_dir) / "PG_VERSION").exists():
            raise OSError("not this machine's data directory")
        figures["free_disk_bytes"] = shutil.disk_usage(wal_dir).free
    except OSError:
        return {**figures, "disk_note": "unknown: the source's data directory is not visible from here"}
    return {**figures, "disk_note": f"free space of the file system holding {wal_dir}"}
