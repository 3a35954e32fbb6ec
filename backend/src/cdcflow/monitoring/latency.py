"""A pipeline's latency split by stage, observed on its most recent events: source commit -> Kafka record -> target
row committed, and -> event logger received / stored -> Socket.IO emitted.

Every figure is read, never estimated: the source commit time is Debezium's `source.ts_ms` (stored with each event),
the Kafka record timestamp is read back from the broker at the event's (topic, partition, offset), the target commit
time is `pg_xact_commit_timestamp(xmin)` of the row on the target (needs `track_commit_timestamp = on` there; the
stack sets it), logger times are stored with the event, Socket.IO times are what this API process emitted. A stage
with nothing observed says so (count 0, null percentiles) and why, in `note`.
"""

import time
import uuid
from collections import defaultdict
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy import text

from cdcflow.connections.service import endpoint_for
from cdcflow.engine.postgres.inspect import EndpointUnreachable, open_connection
from cdcflow.models import Connection, Pipeline
from cdcflow.engine.context import EngineContext

STAGES = [
    ("source_to_kafka", "Source commit → Kafka record"),
    ("kafka_to_target", "Kafka record → target row committed"),
    ("source_to_target", "Source commit → target row committed"),
    ("source_to_logger", "Source commit → event logger received"),
    ("source_to_stored", "Source commit → event logger stored"),
    ("source_to_socketio", "Source commit → Socket.IO emitted"),
]
SAMPLE = 300            # newest events looked at
WINDOW_SECONDS = 600    # ... of at most this age
KAFKA_READ_BUDGET = 5000  # records read back from the broker per request, at most
KAFKA_READ_SECONDS = 3.0
TARGET_KEYS_PER_TABLE = 200


def percentiles(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"p50_ms": None, "p99_ms": None, "count": 0}
    ordered = sorted(values)
    at = lambda q: round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)  # noqa: E731
    return {"p50_ms": at(0.5), "p99_ms": at(0.99), "count": len(ordered)}


def recent_events(session, pipeline_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = session.execute(text("""
        SELECT table_name, event_type, kafka_topic, kafka_partition, kafka_offset, latency_ms,
               (run_metadata->'source'->>'ts_ms')::float8, extract(epoch FROM started_at) * 1000, run_metadata->'key'
        FROM pipeline_runs
        WHERE id IN (SELECT id FROM pipeline_runs WHERE run_type = 'CDC' AND deleted_at IS NULL AND pipeline_id = :pid
                     ORDER BY id DESC LIMIT :n)
          AND started_at > now() - make_interval(secs => :age)"""),
                           {"pid": pipeline_id, "n": SAMPLE, "age": WINDOW_SECONDS}).all()
    return [{"table": r[0], "type": r[1], "topic": r[2], "partition": r[3], "offset": r[4], "latency_ms": r[5],
             "source_ms": r[6], "stored_ms": float(r[7]), "key": r[8]} for r in rows]


def kafka_timestamps(bootstrap: str, events: list[dict[str, Any]]) -> dict[tuple, float]:
    """Record timestamp (epoch ms) at each event's (topic, partition, offset), read back from the broker."""
    from confluent_kafka import Consumer, TopicPartition

    wanted: dict[tuple[str, int], set[int]] = defaultdict(set)
    for e in events:
        if e["topic"] is not None and e["offset"] is not None:
            wanted[(e["topic"], e["partition"])].add(e["offset"])
    if not wanted:
        return {}
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "cdcflow-latency-probe",
                         "enable.auto.commit": False, "enable.partition.eof": True, "socket.timeout.ms": 3000})
    found: dict[tuple, float] = {}
    try:
        ends = {tp: max(offsets) for tp, offsets in wanted.items()}
        consumer.assign([TopicPartition(t, p, min(offsets)) for (t, p), offsets in wanted.items()])
        read, deadline, open_parts = 0, time.monotonic() + KAFKA_READ_SECONDS, set(wanted)
        while open_parts and read < KAFKA_READ_BUDGET and time.monotonic() < deadline:
            for msg in consumer.consume(500, 0.5):
                tp = (msg.topic(), msg.partition())
                if msg.error():
                    open_parts.discard(tp)  # end of partition or an error: nothing more to find there
                    continue
                read += 1
                if msg.offset() in wanted.get(tp, ()):
                    found[(tp[0], tp[1], msg.offset())] = float(msg.timestamp()[1])
                if msg.offset() >= ends.get(tp, -1):
                    open_parts.discard(tp)
    finally:
        consumer.close()
    return found


def target_commit_times(conn: psycopg.Connection, events: list[dict[str, Any]]) -> tuple[dict[int, float], str | None]:
    """Commit time (epoch ms) of each event's row on the target, by index into `events`; the newest event of a key
    only (the row holds its last write). A note when the target keeps no commit times."""
    if conn.execute("SHOW track_commit_timestamp").fetchone()[0] != "on":
        return {}, "the target does not record commit times (track_commit_timestamp is off)"
    newest: dict[tuple, int] = {}
    for i, e in enumerate(events):
        if e["type"] in ("insert", "update") and isinstance(e["key"], dict) and e["key"]:
            newest.setdefault((e["table"], tuple(sorted(e["key"].items()))), i)
    by_table: dict[str, list[tuple[tuple, int]]] = defaultdict(list)
    for (table, key), i in newest.items():
        if len(by_table[table]) < TARGET_KEYS_PER_TABLE:
            by_table[table].append((key, i))
    found: dict[int, float] = {}
    for table, keys in by_table.items():
        schema, _, name = table.partition(".")
        columns = [c for c, _ in keys[0][0]]
        tuples = [k for k in keys if [c for c, _ in k[0]] == columns]
        query = sql.SQL("SELECT {cols}, extract(epoch FROM pg_xact_commit_timestamp(xmin)) * 1000 FROM {table} "
                        "WHERE ({cols}) IN ({values})").format(
            cols=sql.SQL(", ").join(sql.Identifier(c) for c in columns),
            table=sql.Identifier(schema, name),
            values=sql.SQL(", ").join(sql.SQL("({})").format(sql.SQL(", ").join(
                sql.Literal(None if v is None else str(v)) for _, v in k)) for k, _ in tuples))
        try:
            rows = conn.execute(query).fetchall()
        except psycopg.Error:
            conn.rollback()
            continue  # the table is not (yet) on the target or its key changed: no figure rather than a wrong one
        index = {tuple(str(v) for v in r[:-1]): r[-1] for r in rows}
        for key, i in tuples:
            committed = index.get(tuple(str(v) for _, v in key))
            if committed is not None:
                found[i] = float(committed)
    return found, None


def pipeline_latency(ctx: EngineContext, pipeline_id: uuid.UUID, emitted: list[float]) -> dict[str, Any]:
    """`emitted`: source commit -> Socket.IO emit delays (ms) this process observed for the pipeline recently."""
    with ctx.session_factory() as session:
        pipeline = session.get(Pipeline, pipeline_id)
        events = recent_events(session, pipeline_id)
        target = endpoint_for(ctx.box, session.get(Connection, pipeline.target_connection_id), ctx.policy)
    # Newest first: target_commit_times keeps the first event it sees of a key, the row's last write.
    events.sort(key=lambda e: (e["stored_ms"], e["offset"] or 0), reverse=True)
    notes: dict[str, str] = {}
    values: dict[str, list[float]] = {k: [] for k, _ in STAGES}
    try:
        kafka = kafka_timestamps(ctx.settings.kafka_bootstrap_servers, events) if events else {}
    except Exception as exc:  # noqa: BLE001 - a broker that cannot be read leaves these stages unknown
        kafka, notes["source_to_kafka"] = {}, f"Kafka records could not be read back: {exc}"
    committed: dict[int, float] = {}
    if events and target.database_type != "postgresql":
        notes["kafka_to_target"] = notes["source_to_target"] = "commit times are read from PostgreSQL targets only"
    elif events:
        try:
            with open_connection(target, ctx.settings.connection_test_timeout_seconds, autocommit=True) as conn:
                committed, note = target_commit_times(conn, events)
                if note:
                    notes["kafka_to_target"] = notes["source_to_target"] = note
        except EndpointUnreachable as exc:
            notes["kafka_to_target"] = notes["source_to_target"] = f"the target could not be reached: {exc}"
    for i, e in enumerate(events):
        source = e["source_ms"]
        k = kafka.get((e["topic"], e["partition"], e["offset"]))
        if source is not None and k is not None:
            values["source_to_kafka"].append(k - source)
        if i in committed:
            # A row committed before the change was made was written by something else (the full load, a later
            # change of a key sampled out): not this event's apply time.
            if source is not None and committed[i] >= source:
                values["source_to_target"].append(committed[i] - source)
            if k is not None and committed[i] >= k:
                values["kafka_to_target"].append(committed[i] - k)
        if e["latency_ms"] is not None:
            values["source_to_logger"].append(float(e["latency_ms"]))
        if source is not None:
            values["source_to_stored"].append(e["stored_ms"] - source)
    values["source_to_socketio"] = list(emitted)
    if not emitted:
        notes["source_to_socketio"] = "no event emitted by this API process to the pipeline's room recently"
    if not events:
        for key, _ in STAGES[:-1]:
            notes.setdefault(key, "no change event in the window")
    return {"pipeline_id": pipeline_id, "status": pipeline.status.value, "sample_events": len(events),
            "window_seconds": WINDOW_SECONDS,
            "stages": [{"stage": key, "label": label, **percentiles(values[key]), "note": notes.get(key)}
                       for key, label in STAGES]}
