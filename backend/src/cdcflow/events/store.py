"""Batch writes of change events: COPY into a staging table, then one INSERT ... ON CONFLICT DO NOTHING.

Two unique keys make replays harmless: (kafka_topic, kafka_partition, kafka_offset) absorbs a batch the logger reads
twice, (source_lsn, source_key) absorbs a change Debezium sent twice (after a crash it resumes from its last
committed offset, so the copy sits at a new Kafka offset). ON CONFLICT without a target skips a row that violates
either; RETURNING tells which rows are new, so only those are announced, and the counters (statement triggers over
the inserted rows) count each change once.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

import psycopg

from cdcflow.events.parser import ChangeEvent

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
    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
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
        try:
            with conn.cursor() as cur:
                with cur.copy("COPY cdcflow_event_staging FROM STDIN") as copy:
                    for e in events:
                        copy.write_row((e.pipeline_id, e.event_type, e.table_name, e.source_lsn, e.latency_ms,
                                        e.topic, e.partition, e.offset, now, e.metadata_json.decode(),
                                        e.source_key))
                # Only the new rows' ids come back: the rest of each row is what the parser made, so reading
                # run_metadata back (and parsing its JSON again) would only cost.
                rows = cur.execute(MOVE).fetchall()
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
