"""Batch writes of change events: a binary COPY straight into pipeline_runs and the batch's counters, in one
transaction; a batch holding a replay (or an event of a pipeline that is gone) is rolled back and written the careful
way: COPY into a staging table, then one INSERT ... ON CONFLICT DO NOTHING.

One unique key makes replays harmless: (pipeline_id, table_name, row_key, source_key), i.e. the change's source
identity (events/parser.py): a change Debezium sent twice (after a crash it resumes from its last committed offset,
so the copy sits at a new Kafka offset) and a batch the logger read twice both hash the same. RETURNING tells which
rows are new, so only those are announced and counted.

Replays are rare (after a crash of Debezium or the logger), so the common batch skips the staging table, its sort
and the speculative insertion of ON CONFLICT: ids are drawn from the sequence first (the announced events need
them), and a unique or foreign-key violation (the counters' key to pipelines) means "take the careful path", never
a lost event. Both paths store the same row.

Counters (pipeline_event_totals, _rollups, _minutes) are added per batch, from the parsed events, by one statement:
this session sets cdcflow.events_counted, so the statement trigger of migration 0003 leaves them to it.
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import psycopg
from psycopg import _cmodule, errors

from cdcflow.events.parser import ChangeEvent, pipeline_of_topic

# The C dumper of bytes to binary bytea (psycopg's C implementation), when installed.
BytesBinaryDumper = getattr(_cmodule._psycopg, "BytesBinaryDumper", None) if _cmodule._psycopg else None

# The cross-process channel (events/relay.py): a batch's new event ids, `<pipeline id>:<id>,<id>,...` per pipeline,
# in payloads under PostgreSQL's 8000-byte NOTIFY limit.
CHANNEL = "cdcflow_events"
MAX_PAYLOAD = 7000


def announcements(rows: list[tuple]) -> list[str]:
    """NOTIFY payloads for stored rows (id, kafka_topic, ...): `<pipeline id>:<id>,<id>,...`, one pipeline each, so a
    listener reads back only the events of pipelines someone watches through it (events/relay.py)."""
    by_pipeline: dict[str, list[int]] = {}
    for row in rows:
        by_pipeline.setdefault(pipeline_of_topic(row[1]), []).append(row[0])
    return [f"{pipeline_id}:{chunk}" for pipeline_id, ids in by_pipeline.items()
            for chunk in chunks(ids, MAX_PAYLOAD - len(pipeline_id) - 1)]


def chunks(ids: list[int], limit: int = MAX_PAYLOAD) -> list[str]:
    """Comma-separated ids, split so that no payload exceeds `limit` bytes."""
    out, current = [], ""
    for text in map(str, ids):
        if current and len(current) + 1 + len(text) > limit:
            out.append(current)
            current = ""
        current = f"{current},{text}" if current else text
    if current:
        out.append(current)
    return out

STAGING = """
CREATE TEMP TABLE IF NOT EXISTS cdcflow_event_staging (
    pipeline_id uuid, event_type text, table_name text, source_lsn bigint, latency_ms integer,
    kafka_topic text, kafka_partition integer, kafka_offset bigint, started_at timestamptz, run_metadata jsonb,
    source_key uuid, row_key jsonb
) ON COMMIT DELETE ROWS
"""

MOVE = """
INSERT INTO pipeline_runs (pipeline_id, run_type, status, event_type, table_name, source_lsn, latency_ms,
                           kafka_topic, kafka_partition, kafka_offset, started_at, completed_at, run_metadata,
                           source_key, row_key)
SELECT s.pipeline_id, 'CDC', 'captured', s.event_type, s.table_name, s.source_lsn, s.latency_ms, s.kafka_topic,
       s.kafka_partition, s.kafka_offset, s.started_at, s.started_at, s.run_metadata, s.source_key, s.row_key
FROM cdcflow_event_staging s
JOIN pipelines p ON p.id = s.pipeline_id
-- The first copy (lowest offset) wins, also when the original and its replay arrive in the same batch.
ORDER BY s.kafka_topic, s.kafka_partition, s.kafka_offset
ON CONFLICT DO NOTHING
RETURNING id, kafka_topic, kafka_partition, kafka_offset
"""


IDS = "SELECT array_agg(nextval(pg_get_serial_sequence('pipeline_runs', 'id'))) FROM generate_series(1, %s)"
# Binary: PostgreSQL parses no text for ids, uuids, timestamps; jsonb and uuid values go as their wire bytes
# (jsonb: version 1, then the JSON text the parser already serialized; uuid: its 16 bytes), all dumped in C.
DIRECT = """
COPY pipeline_runs (id, pipeline_id, run_type, status, event_type, table_name, source_lsn, latency_ms, kafka_topic,
                    kafka_partition, kafka_offset, started_at, completed_at, run_metadata, source_key, row_key)
FROM STDIN (FORMAT BINARY)
"""
DIRECT_TYPES = ["int8", "bytea", "text", "text", "text", "text", "int8", "int4", "text", "int4", "int8", "timestamptz",
                "timestamptz", "bytea", "bytea", "bytea"]
JSONB_VERSION = b"\x01"

# The batch's counters, grouped by the logger: what migration 0003's trigger adds for the same rows. Groups arrive
# sorted, so two loggers lock counter rows in one order.
COUNT = """
WITH g (pipeline_id, table_name, event_type, events, latency_sum, latency_count) AS (
    SELECT * FROM unnest(%(pipelines)s::uuid[], %(tables)s::text[], %(types)s::text[], %(events)s::bigint[],
                         %(latency_sums)s::bigint[], %(latency_counts)s::bigint[])),
totals AS (
    INSERT INTO pipeline_event_totals AS t (pipeline_id, table_name, event_type, events, latency_sum_ms,
                                            latency_count, last_event_at)
    SELECT pipeline_id, table_name, event_type, events, latency_sum, latency_count, %(at)s FROM g
    ON CONFLICT (pipeline_id, table_name, event_type) DO UPDATE SET events = t.events + excluded.events,
        latency_sum_ms = t.latency_sum_ms + excluded.latency_sum_ms,
        latency_count = t.latency_count + excluded.latency_count,
        last_event_at = greatest(t.last_event_at, excluded.last_event_at)),
rollups AS (
    INSERT INTO pipeline_event_rollups AS r (pipeline_id, bucket, table_name, event_type, events, latency_sum_ms,
                                             latency_count)
    SELECT pipeline_id, date_trunc('hour', %(at)s::timestamptz), table_name, event_type, events, latency_sum,
           latency_count FROM g
    ON CONFLICT (pipeline_id, bucket, table_name, event_type) DO UPDATE SET events = r.events + excluded.events,
        latency_sum_ms = r.latency_sum_ms + excluded.latency_sum_ms,
        latency_count = r.latency_count + excluded.latency_count)
INSERT INTO pipeline_event_minutes AS m (pipeline_id, minute, event_type, events, latency_sum_ms, latency_count)
SELECT pipeline_id, date_trunc('minute', %(at)s::timestamptz), event_type, sum(events), sum(latency_sum),
       sum(latency_count)
FROM g GROUP BY pipeline_id, event_type ORDER BY pipeline_id, event_type
ON CONFLICT (pipeline_id, minute, event_type) DO UPDATE SET events = m.events + excluded.events,
    latency_sum_ms = m.latency_sum_ms + excluded.latency_sum_ms,
    latency_count = m.latency_count + excluded.latency_count
"""


def counts(events: list[ChangeEvent]) -> dict[str, list]:
    """COUNT's parameters: events, latency sum and latency count per (pipeline, table, event type), sorted."""
    groups: dict[tuple, list[int]] = {}
    pipelines: dict[str, uuid.UUID] = {}
    for e in events:  # by topic (a str hashes in C), then by pipeline
        group = groups.get((e.topic, e.table_name, e.event_type))
        if group is None:
            group = groups[(e.topic, e.table_name, e.event_type)] = [0, 0, 0]
            pipelines[e.topic] = e.pipeline_id
        group[0] += 1
        if e.latency_ms is not None:
            group[1] += e.latency_ms
            group[2] += 1
    merged: dict[tuple, list[int]] = {}
    for (topic, table, event_type), (n, latency_sum, latency_count) in groups.items():
        total = merged.setdefault((str(pipelines[topic]), table or "", event_type), [0, 0, 0])
        total[0], total[1], total[2] = total[0] + n, total[1] + latency_sum, total[2] + latency_count
    keys = sorted(merged)
    groups = merged
    return {"pipelines": [k[0] for k in keys], "tables": [k[1] for k in keys], "types": [k[2] for k in keys],
            "events": [groups[k][0] for k in keys], "latency_sums": [groups[k][1] for k in keys],
            "latency_counts": [groups[k][2] for k in keys]}


@dataclass(slots=True)
class StoredEvent:
    """One stored event as announced and listed (slots, not frozen: thousands are made per batch, and a frozen
    dataclass's __init__ costs a call per field)."""

    id: int
    pipeline_id: str
    event_type: str
    table_name: str
    source_lsn: int | None
    latency_ms: int | None
    kafka_topic: str
    kafka_partition: int
    kafka_offset: int
    created_at: str
    run_metadata: dict

    def public(self) -> dict:
        """The fields GET /monitoring/events returns for one event."""
        meta = self.run_metadata
        return {"id": self.id, "pipeline_id": self.pipeline_id, "event_type": self.event_type,
                "table_name": self.table_name, "source_lsn": self.source_lsn, "latency_ms": self.latency_ms,
                "kafka_topic": self.kafka_topic, "kafka_partition": self.kafka_partition,
                "kafka_offset": self.kafka_offset, "created_at": self.created_at, "op": meta.get("op"),
                "primary_key": meta.get("key"), "before": meta.get("before"), "after": meta.get("after"),
                "tx_id": (meta.get("source") or {}).get("txId"),
                "source_ts_ms": (meta.get("source") or {}).get("ts_ms")}


class EventStore:
    def __init__(self, dsn: str, direct: bool = True, notify: bool = False) -> None:
        self.dsn = dsn
        self.direct = direct  # False: always the staging path (the benchmark measures both)
        # NOTIFY the new ids inside the batch's own transaction: PostgreSQL delivers it exactly when the rows
        # commit, so no process death can fall between storing events and announcing them (a separate NOTIFY
        # after the commit lost the live pushes of a batch whenever its logger died in between).
        self.notify = notify
        self.fallbacks = 0  # batches that took the careful path after the direct COPY was refused
        self._conn: psycopg.Connection | None = None

    def _connection(self) -> psycopg.Connection:
        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(self.dsn, connect_timeout=10)
            if BytesBinaryDumper is not None:  # psycopg's default for bytea is a Python subclass: 3 calls a row
                self._conn.adapters.register_dumper(bytes, BytesBinaryDumper)
            self._conn.execute(STAGING)
            self._conn.execute("SET cdcflow.events_counted = on")  # COUNT adds this session's batches
            self._conn.commit()
        return self._conn

    def ping(self) -> None:
        """Raises while the database is unreachable."""
        self._connection().execute("SELECT 1")
        self._conn.rollback()

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def write(self, events: list[ChangeEvent]) -> list[StoredEvent]:
        """Store the batch in one transaction; returns the events that were new (not replays)."""
        if not events:
            return []
        conn = self._connection()
        now = datetime.now(UTC)
        rows = None
        try:
            if self.direct:
                try:
                    rows = self._copy_direct(conn, events, now)
                    conn.execute(COUNT, {**counts(events), "at": now})
                    self._announce(conn, rows)
                    conn.commit()
                except (errors.UniqueViolation, errors.ForeignKeyViolation):
                    conn.rollback()
                    rows = None
                    self.fallbacks += 1
            if rows is None:
                rows = self._copy_staged(conn, events, now)
                by_offset = {(e.topic, e.partition, e.offset): e for e in events}
                if rows:
                    conn.execute(COUNT, {**counts([by_offset[r[1:]] for r in rows]), "at": now})
                self._announce(conn, rows)
                conn.commit()
        except Exception:
            conn.rollback()
            raise
        created = now.isoformat()
        if len(rows) == len(events):  # the direct path: every event is new, in batch order
            pairs = zip((r[0] for r in rows), events)
        else:
            by_offset = {(e.topic, e.partition, e.offset): e for e in events}
            pairs = ((r[0], by_offset[r[1:]]) for r in rows)
        texts: dict[str, str] = {}  # by topic: a str's hash is cached, a UUID's is a Python call
        return [StoredEvent(row_id, texts.get(e.topic) or texts.setdefault(e.topic, str(e.pipeline_id)),
                            e.event_type, e.table_name, e.source_lsn, e.latency_ms, e.topic, e.partition, e.offset,
                            created, e.metadata) for row_id, e in pairs]

    def _announce(self, conn: psycopg.Connection, rows: list[tuple]) -> None:
        if self.notify and rows:
            for payload in announcements(rows):
                conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, payload))

    @staticmethod
    def _copy_direct(conn: psycopg.Connection, events: list[ChangeEvent], now: datetime) -> list[tuple]:
        with conn.cursor() as cur:
            ids = cur.execute(IDS, (len(events),)).fetchone()[0]
            pipelines: dict[str, bytes] = {}  # by topic; the uuid as its 16 bytes, dumped in C
            with cur.copy(DIRECT) as copy:
                copy.set_types(DIRECT_TYPES)
                write = copy.write_row
                for row_id, e in zip(ids, events, strict=True):
                    pipeline = pipelines.get(e.topic) or pipelines.setdefault(e.topic, e.pipeline_id.bytes)
                    write((row_id, pipeline, "CDC", "captured", e.event_type, e.table_name, e.source_lsn,
                           e.latency_ms, e.topic, e.partition, e.offset, now, now, JSONB_VERSION + e.metadata_json,
                           bytes.fromhex(e.source_key), JSONB_VERSION + e.row_key_json))
        return [(row_id, e.topic, e.partition, e.offset) for row_id, e in zip(ids, events)]

    @staticmethod
    def _copy_staged(conn: psycopg.Connection, events: list[ChangeEvent], now: datetime) -> list[tuple]:
        with conn.cursor() as cur:
            with cur.copy("COPY cdcflow_event_staging FROM STDIN") as copy:
                for e in events:
                    copy.write_row((e.pipeline_id, e.event_type, e.table_name, e.source_lsn, e.latency_ms,
                                    e.topic, e.partition, e.offset, now, e.metadata_json.decode(), e.source_key,
                                    e.row_key_json.decode()))
            # Only the new rows' ids come back: the rest of each row is what the parser made, so reading
            # run_metadata back (and parsing its JSON again) would only cost.
            return cur.execute(MOVE).fetchall()
