"""The event store against the real metadata database: a change Debezium sends twice (at a new Kafka offset) is
stored once, in one batch or across batches, the dashboard counters count it once, and full-load rows are not
touched by the source-identity key."""

import json
import uuid

import psycopg
import pytest

from cdcflow.events.parser import parse
from cdcflow.events.store import EventStore
from tests.kafka_support import change_event, key


@pytest.fixture
def pipeline_id(stack_env):
    with psycopg.connect(stack_env["DATABASE_URL"], autocommit=True) as conn:
        conn_id = conn.execute(
            "INSERT INTO connections (name, connection_type, database_type, host, port, database, username, "
            "password_encrypted) VALUES (%s, 'source', 'postgresql', '127.0.0.1', 5432, 'x', 'x', 'v1:x:x') "
            "RETURNING id", (f"store-{uuid.uuid4().hex[:8]}",)).fetchone()[0]
        pid = conn.execute("INSERT INTO pipelines (name, source_connection_id, target_connection_id, mode) "
                           "VALUES (%s, %s, %s, 'cdc_only') RETURNING id",
                           (f"store-{uuid.uuid4().hex[:8]}", conn_id, conn_id)).fetchone()[0]
    yield pid
    with psycopg.connect(stack_env["DATABASE_URL"], autocommit=True) as conn:
        for table in ("pipeline_runs", "pipeline_event_totals", "pipeline_event_rollups", "pipeline_event_minutes"):
            conn.execute(f"DELETE FROM {table} WHERE pipeline_id = %s", (pid,))
        conn.execute("DELETE FROM pipelines WHERE id = %s", (pid,))
        conn.execute("DELETE FROM connections WHERE id = %s", (conn_id,))


def events(pipeline_id, changes: list[tuple[str, int, int]], first_offset: int):
    """(op, row id, lsn) per change, at consecutive offsets of one topic."""
    topic = f"cdcflow.{pipeline_id}.public.t"
    return [parse(topic, 0, first_offset + i, key(row), change_event(op, row, lsn=lsn))
            for i, (op, row, lsn) in enumerate(changes)]


def totals(stack_env, pipeline_id) -> dict[str, int]:
    with psycopg.connect(stack_env["DATABASE_URL"]) as conn:
        return dict(conn.execute("SELECT event_type, events FROM pipeline_event_totals WHERE pipeline_id = %s",
                                 (pipeline_id,)).fetchall())


def test_replayed_changes_are_stored_once_and_counted_once(stack_env, pipeline_id):
    store = EventStore(stack_env["DATABASE_URL"])
    try:
        original = [("c", 1, 1000), ("c", 2, 1064), ("u", 1, 1128), ("d", 2, 1192)]
        assert len(store.write(events(pipeline_id, original, 0))) == 4
        # Debezium restarted from an older offset: the last two changes again (new offsets), then a new one; in the
        # same batch the replay of the new one, as when both copies arrive before the logger's next commit.
        replay = [("u", 1, 1128), ("d", 2, 1192), ("c", 3, 1256), ("c", 3, 1256)]
        stored = store.write(events(pipeline_id, replay, 4))
        assert [(e.event_type, e.kafka_offset) for e in stored] == [("insert", 6)]
        # The same batch read twice by the logger (same offsets) is absorbed too.
        assert store.write(events(pipeline_id, replay, 4)) == []
        # A primary-key change is a delete and a create at one LSN: both are kept.
        assert len(store.write(events(pipeline_id, [("d", 3, 1320), ("c", 4, 1320)], 8))) == 2
    finally:
        store.close()
    with psycopg.connect(stack_env["DATABASE_URL"]) as conn:
        rows = conn.execute("SELECT kafka_offset, source_lsn, source_key IS NOT NULL FROM pipeline_runs "
                            "WHERE pipeline_id = %s ORDER BY kafka_offset", (pipeline_id,)).fetchall()
        full_load = conn.execute(
            "INSERT INTO pipeline_runs (pipeline_id, run_type, status, run_metadata) VALUES (%s, 'FULL_LOAD', "
            "'COMPLETED', %s), (%s, 'FULL_LOAD', 'COMPLETED', %s) RETURNING source_key",
            (pipeline_id, json.dumps({}), pipeline_id, json.dumps({}))).fetchall()
    assert [r[0] for r in rows] == [0, 1, 2, 3, 6, 8, 9]
    assert all(r[2] for r in rows)
    assert full_load == [(None,), (None,)]  # full-load runs carry no source key and never conflict
    assert totals(stack_env, pipeline_id) == {"insert": 4, "update": 1, "delete": 2}
