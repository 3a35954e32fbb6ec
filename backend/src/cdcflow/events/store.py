"""Batch writes of change events: COPY straight into pipeline_runs; a batch holding a replay (or an event of a
pipeline deleted meanwhile) is rolled back and written the careful way: COPY into a staging table, then one
INSERT ... ON CONFLICT DO NOTHING.

Two unique keys make replays harmless: (kafka_topic, kafka_partition, kafka_offset) absorbs a batch the logger reads
twice, (source_lsn, source_key) absorbs a change Debezium sent twice (after a crash it resumes from its last
committed offset, so the copy sits at a new Kafka offset). ON CONFLICT without a target skips a row that violates
either; RETURNING tells which rows are new, so only those are announced, and the counters (statement triggers over
the inserted rows) count each change once.

Replays are rare (after a crash of Debezium or the logger), so the common batch skips the staging table, its sort
and the speculative insertion of ON CONFLICT: ids are drawn from the sequence first (the announced events need
them), and a unique or foreign-key violation means "take the careful path", never a lost event. Both paths store
the same row.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

import psycopg
from psycopg import errors

from cdcflow.events.parser import ChangeEvent, pipeline_of_topic

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
    source_key uuid
) ON COMMIT DELETE ROWS
"""

MOVE = """
INSERT INTO pipeline_runs (pipeline_id, run_type, status, event_type, table_name, source_lsn, latency_ms,
                           kafka_topic, kafka_partition, kafka_offset, started_at, completed_at, run_metadata,
                           source_key)
SELECT s.pipeline_id, 'CDC', 'captured', s.event_type, s.table_name, s.source_lsn, s.latency_ms, s.kafka_topic,
       s.kafka_partition, s.kafka_offset, s.started_at, s.started_at, s.run_metadata, s.source_key
FROM cdcflow_event_staging s
JOIN pipelines p ON p.id = s.pipeline_id
-- The first copy (lowest offset) wins, also when the original and its replay arrive in the same batch.
ORDER BY s.kafka_topic, s.kafka_partition, s.kafka_offset
ON CONFLICT DO NOTHING
RETURNING id, kafka_topic, kafka_partition, kafka_offset
"""


IDS = "SELECT nextval(pg_get_serial_sequence('pipeline_runs', 'id')) FROM generate_series(1, %s)"
DIRECT = """
COPY pipeline_runs (id, pipeline_id, run_type, status, event_type, table_name, source_lsn, latency_ms, kafka_topic,
                    kafka_partition, kafka_offset, started_at, completed_at, run_metadata, source_key) FROM STDIN
"""


@dataclass(frozen=True)
class StoredEvent:
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
            self._conn.execute(STAGING)
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
                    self._announce(conn, rows)
                    conn.commit()
                except (errors.UniqueViolation, errors.ForeignKeyViolation):
                    conn.rollback()
                    rows = None
                    self.fallbacks += 1
            if rows is None:
                rows = self._copy_staged(conn, events, now)
                self._announce(conn, rows)
                conn.commit()
        except Exception:
            conn.rollback()
            raise
        by_offset = {(e.topic, e.partition, e.offset): e for e in events}
        created = now.isoformat()
        stored = []
        for row_id, topic, partition, offset in rows:
            e = by_offset[(topic, partition, offset)]
            stored.append(StoredEvent(id=row_id, pipeline_id=str(e.pipeline_id), event_type=e.event_type,
                                      table_name=e.table_name, source_lsn=e.source_lsn, latency_ms=e.latency_ms,
                                      kafka_topic=topic, kafka_partition=partition, kafka_offset=offset,
                                      created_at=created, run_metadata=e.metadata))
        return stored

    def _announce(self, conn: psycopg.Connection, rows: list[tuple]) -> None:
        if self.notify and rows:
            for payload in announcements(rows):
                conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, payload))

    @staticmethod
    def _copy_direct(conn: psycopg.Connection, events: list[ChangeEvent], now: datetime) -> list[tuple]:
        with conn.cursor() as cur:
            ids = [r[0] for r in cur.execute(IDS, (len(events),))]
            with cur.copy(DIRECT) as copy:
                for row_id, e in zip(ids, events, strict=True):
                    copy.write_row((row_id, e.pipeline_id, "CDC", "captured", e.event_type, e.table_name,
                                    e.source_lsn, e.latency_ms, e.topic, e.partition, e.offset, now, now,
                                    e.metadata_json.decode(), e.source_key))
        return [(row_id, e.topic, e.partition, e.offset) for row_id, e in zip(ids, events)]

    @staticmethod
    def _copy_staged(conn: psycopg.Connection, events: list[ChangeEvent], now: datetime) -> list[tuple]:
        with conn.cursor() as cur:
            with cur.copy("COPY cdcflow_event_staging FROM STDIN") as copy:
                for e in events:
                    copy.write_row((e.pipeline_id, e.event_type, e.table_name, e.source_lsn, e.latency_ms,
                                    e.topic, e.partition, e.offset, now, e.metadata_json.decode(), e.source_key))
            # Only the new rows' ids come back: the rest of each row is what the parser made, so reading
            # run_metadata back (and parsing its JSON again) would only cost.
            return cur.execute(MOVE).fetchall()
