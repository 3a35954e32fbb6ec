"""The event store against the real metadata database: a change Debezium sends twice (at a new Kafka offset) is
stored once, in one batch or across batches, the dashboard counters count it once, and full-load rows are not
touched by the source-identity key."""

import json
import time
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


def mariadb_change(op: str, row: int, pos: int) -> bytes:
    """A MariaDB change as Debezium's MySQL connector writes it: no lsn, the binlog coordinate instead."""
    image = {"id": row, "name": f"row {row}"}
    return json.dumps({"payload": {
        "op": op, "before": image if op in ("u", "d") else None, "after": None if op == "d" else image,
        "source": {"db": "shop", "table": "t", "file": "mysql-bin.000002", "pos": pos, "row": 0, "gtid": None,
                   "ts_ms": int(time.time() * 1000)}}, "schema": {}}).encode()


def test_a_replayed_mariadb_change_is_stored_once(stack_env, pipeline_id):
    topic = f"cdcflow.{pipeline_id}.shop.t"
    changes = [("c", 1, 400), ("c", 2, 520), ("u", 1, 640), ("d", 2, 760)]

    def batch(first_offset: int, chosen=changes):
        return [parse(topic, 0, first_offset + i, key(row), mariadb_change(op, row, pos))
                for i, (op, row, pos) in enumerate(chosen)]

    store = EventStore(stack_env["DATABASE_URL"])
    try:
        assert len(store.write(batch(0))) == 4
        # Debezium restarted from an older binlog position: the same changes at new Kafka offsets, then a new one.
        stored = store.write(batch(100, changes[2:] + [("u", 1, 880)]))
        assert [(e.event_type, e.kafka_offset) for e in stored] == [("update", 102)]
        assert store.write(batch(100, changes[2:] + [("u", 1, 880)])) == []  # and the batch read twice
    finally:
        store.close()
    with psycopg.connect(stack_env["DATABASE_URL"]) as conn:
        rows = conn.execute("SELECT source_lsn, row_key, kafka_offset FROM pipeline_runs WHERE pipeline_id = %s "
                            "ORDER BY id", (pipeline_id,)).fetchall()
    assert [(r[0], r[1], r[2]) for r in rows] == [(None, {"id": 1}, 0), (None, {"id": 2}, 1), (None, {"id": 1}, 2),
                                                  (None, {"id": 2}, 3), (None, {"id": 1}, 102)]
    assert totals(stack_env, pipeline_id) == {"insert": 2, "update": 2, "delete": 1}


COUNTED = "run_type = 'CDC' AND deleted_at IS NULL AND event_type IS NOT NULL AND pipeline_id = %(p)s"


def counters_and_rows(conn, pipeline_id) -> list[tuple[list, list]]:
    """Each counter table beside the same aggregation over the rows it counts: (counters, aggregation) pairs."""
    p = {"p": pipeline_id}
    q = lambda sql: sorted(tuple(r) for r in conn.execute(sql, p).fetchall())  # noqa: E731
    return [
        (q("SELECT table_name, event_type, events, latency_sum_ms, latency_count FROM pipeline_event_totals "
           "WHERE pipeline_id = %(p)s AND events <> 0"),
         q(f"SELECT coalesce(table_name, ''), event_type, count(*), coalesce(sum(latency_ms), 0), count(latency_ms) "
           f"FROM pipeline_runs WHERE {COUNTED} GROUP BY 1, 2")),
        (q("SELECT bucket, table_name, event_type, events, latency_sum_ms FROM pipeline_event_rollups "
           "WHERE pipeline_id = %(p)s AND events <> 0"),
         q(f"SELECT date_trunc('hour', started_at), coalesce(table_name, ''), event_type, count(*), "
           f"coalesce(sum(latency_ms), 0) FROM pipeline_runs WHERE {COUNTED} GROUP BY 1, 2, 3")),
        (q("SELECT minute, event_type, events, latency_count FROM pipeline_event_minutes "
           "WHERE pipeline_id = %(p)s AND events <> 0"),
         q(f"SELECT date_trunc('minute', started_at), event_type, count(*), count(latency_ms) FROM pipeline_runs "
           f"WHERE {COUNTED} GROUP BY 1, 2")),
    ]


def test_counters_equal_an_aggregation_over_the_rows_through_inserts_soft_deletes_and_purges(stack_env,
                                                                                             pipeline_id):
    """The store counts its batches itself (one statement per batch, the insert trigger stands aside for it); other
    writers, soft deletes and purges are counted by the triggers. After each, every counter equals the SQL
    aggregation over the live CDC rows."""
    store, staged = EventStore(stack_env["DATABASE_URL"]), EventStore(stack_env["DATABASE_URL"], direct=False)
    try:
        ops = "ccuud"
        assert len(store.write(events(pipeline_id, [(ops[i % 5], i, 5000 + 64 * i) for i in range(300)], 0))) == 300
        # The careful path: a batch half replays, half new (only the new half is counted).
        assert len(staged.write(events(pipeline_id, [(ops[i % 5], i, 5000 + 64 * i) for i in range(250, 400)],
                                       1000))) == 100
        with psycopg.connect(stack_env["DATABASE_URL"]) as conn:
            # Another writer of CDC rows (no source key): the insert trigger counts it.
            conn.execute("INSERT INTO pipeline_runs (pipeline_id, run_type, status, event_type, table_name, "
                         "latency_ms, started_at, run_metadata) SELECT %s, 'CDC', 'captured', 'update', 'public.u', "
                         "g, now() - interval '2 hours', '{\"event_type\": \"update\"}' FROM generate_series(1, 40) g",
                         (pipeline_id,))
            conn.commit()
            assert all(counted == aggregated for counted, aggregated in counters_and_rows(conn, pipeline_id))
            conn.execute("UPDATE pipeline_runs SET deleted_at = now() WHERE pipeline_id = %s AND id %% 3 = 0",
                         (pipeline_id,))
            conn.commit()
            assert all(counted == aggregated for counted, aggregated in counters_and_rows(conn, pipeline_id))
            conn.execute("DELETE FROM pipeline_runs WHERE pipeline_id = %s AND id %% 4 = 1", (pipeline_id,))
            conn.commit()
            final = counters_and_rows(conn, pipeline_id)
    finally:
        store.close()
        staged.close()
    assert all(counted == aggregated for counted, aggregated in final)
    assert sum(r[2] for r in final[0][0]) == sum(r[2] for r in final[0][1]) > 0


def test_a_mariadb_change_replayed_through_kafka_is_stored_once_by_the_logger(stack_env, pipeline_id):
    """End to end through Kafka and the logger: Debezium's MySQL connector restarted from an older binlog position
    re-sends two changes at new offsets; the logger stores each change once and counts the copies as duplicates."""
    from tests.kafka_support import produce
    from tests.support import wait_until

    from cdcflow.events.logger import EventLogger, LoggerConfig

    topic = f"cdcflowtest.{pipeline_id}.shop.t"  # a prefix the API server's logger does not read
    first = [(key(1), mariadb_change("c", 1, 400)), (key(2), mariadb_change("c", 2, 520)),
             (key(1), mariadb_change("u", 1, 640))]
    produce(stack_env["KAFKA_BOOTSTRAP_SERVERS"], topic, first + first[1:] + [(key(2), mariadb_change("d", 2, 760))])
    logger = EventLogger(LoggerConfig(bootstrap_servers=stack_env["KAFKA_BOOTSTRAP_SERVERS"],
                                      database_url=stack_env["DATABASE_URL"], group_id=f"test-{uuid.uuid4().hex[:8]}",
                                      topic_regex="^" + topic.replace(".", r"\.") + "$"))
    logger.start()
    try:
        wait_until(lambda: logger.stats.stored + logger.stats.duplicates >= 6, 60, interval=0.1,
                   what="all six messages stored or absorbed")
    finally:
        logger.stop()
    with psycopg.connect(stack_env["DATABASE_URL"]) as conn:
        rows = conn.execute("SELECT event_type, row_key, kafka_offset FROM pipeline_runs WHERE kafka_topic = %s "
                            "ORDER BY kafka_offset", (topic,)).fetchall()
    assert rows == [("insert", {"id": 1}, 0), ("insert", {"id": 2}, 1), ("update", {"id": 1}, 2),
                    ("delete", {"id": 2}, 5)]
    assert (logger.stats.stored, logger.stats.duplicates) == (4, 2)
    assert totals(stack_env, pipeline_id) == {"insert": 2, "update": 1, "delete": 1}
