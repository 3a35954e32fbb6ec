"""The MariaDB plugins, no mocks: Debezium's MariaDB source (its own plugin folder) reading the stack's MariaDB as the
least-privileged demo source account -> Kafka -> the JDBC sink writing MariaDB (the driver in the sink's folder),
driven over Connect REST. Proves the stack's server, grants and jars are what a MariaDB pipeline needs."""

import json
import os
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
from confluent_kafka import Consumer
from confluent_kafka.admin import AdminClient

from cdcflow.demo.mariadb_seed import endpoint_from_dsn
from cdcflow.engine.mariadb.connection import connect
from tests.support import connect_client, wait_until

SOURCE_DSN = os.environ.get("MARIADB_DEMO_SOURCE_DSN", "")
TARGET_DSN = os.environ.get("MARIADB_DEMO_TARGET_DSN", "")
COLUMNS = "id INT PRIMARY KEY, name VARCHAR(100) NOT NULL, amount DECIMAL(12, 2), happened_at DATETIME(6), note TEXT"


@contextmanager
def db(dsn: str):
    # Generous reads: the connector's schema snapshot briefly holds a global read lock (FLUSH TABLES WITH READ
    # LOCK, snapshot.locking.mode minimal), and a write waits for it; a busy machine has taken over 10 s.
    conn = connect(endpoint_from_dsn(dsn), 10, autocommit=True, read_timeout=120, write_timeout=120)
    try:
        yield conn.cursor()
    finally:
        conn.close()


def rows(dsn: str, table: str) -> list[tuple]:
    with db(dsn) as cur:
        cur.execute(f"SELECT id, name, amount, happened_at, note FROM {table} ORDER BY id")
        return [tuple(str(v) for v in r) for r in cur.fetchall()]


def target_rows(table: str) -> list[tuple] | None:
    with db(TARGET_DSN) as cur:
        cur.execute("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() "
                    "AND TABLE_NAME = %s", (table,))
        if not cur.fetchone()[0]:
            return None
    return rows(TARGET_DSN, table)


def _task_running(client, name: str) -> bool:
    status = client.status(name)
    failed = [t for t in status.get("tasks", []) if t["state"] == "FAILED"]
    assert not failed, f"{name} task failed: {failed[0].get('trace', '')[:2000]}"
    return status["connector"]["state"] == "RUNNING" and any(t["state"] == "RUNNING" for t in status["tasks"])


def _write_password(secret_dir: Path, name: str, dsn: str) -> str:
    secret_dir.mkdir(parents=True, exist_ok=True)
    (secret_dir / name).write_text(endpoint_from_dsn(dsn).password)
    return "${dir:%s:%s}" % (secret_dir, name)


@pytest.mark.timeout(420)
def test_mariadb_source_to_mariadb_sink_through_connect(stack_env):
    suffix = uuid.uuid4().hex[:10]
    table, prefix = f"dp_{suffix}", f"mdbtest_{suffix}"
    source_name, sink_name = f"mdbtest-{suffix}-source", f"mdbtest-{suffix}-sink"
    topic, history = f"{prefix}.shop.{table}", f"{prefix}.schema-history"
    secret_dir = Path(stack_env["CONNECT_SECRETS_DIR"]) / suffix
    client = connect_client()
    with db(SOURCE_DSN) as cur:
        cur.execute(f"CREATE TABLE {table} ({COLUMNS})")
    try:
        source = endpoint_from_dsn(SOURCE_DSN)
        client.put_config(source_name, {
            "connector.class": "io.debezium.connector.mariadb.MariaDbConnector",
            "tasks.max": "1",
            "database.hostname": source.host,
            "database.port": str(source.port),
            "database.user": source.username,
            "database.password": _write_password(secret_dir, "source", SOURCE_DSN),
            "database.server.id": str(100000 + int(suffix[:4], 16)),
            "topic.prefix": prefix,
            "database.include.list": "shop",
            "table.include.list": f"shop.{table}",
            "snapshot.mode": "no_data",
            "schema.history.internal.kafka.bootstrap.servers": stack_env["KAFKA_BOOTSTRAP_SERVERS"],
            "schema.history.internal.kafka.topic": history,
            "include.schema.changes": "false",
        })
        client.put_config(sink_name, {
            "connector.class": "io.debezium.connector.jdbc.JdbcSinkConnector",
            "tasks.max": "1",
            "topics": topic,
            "connection.url": f"jdbc:mariadb://{source.host}:{source.port}/demo_target",
            "connection.username": endpoint_from_dsn(TARGET_DSN).username,
            "connection.password": _write_password(secret_dir, "target", TARGET_DSN),
            "insert.mode": "upsert",
            "primary.key.mode": "record_key",
            "delete.enabled": "true",
            "schema.evolution": "basic",
            "collection.name.format": "${source.table}",
        })
        wait_until(lambda: _task_running(client, source_name), timeout=180, what="MariaDB source task RUNNING")
        wait_until(lambda: _task_running(client, sink_name), timeout=180, what="JDBC sink task RUNNING")

        consumer = Consumer({"bootstrap.servers": stack_env["KAFKA_BOOTSTRAP_SERVERS"],
                             "group.id": f"mdbtest-{suffix}", "auto.offset.reset": "earliest"})
        consumer.subscribe([topic])
        ops: list[str] = []

        def streaming() -> bool:
            # The connector reads the binlog from "now" once it runs: write a marker row until it shows up.
            with db(SOURCE_DSN) as cur:
                cur.execute(f"REPLACE INTO {table} VALUES (0, 'marker', NULL, NULL, NULL)")
            msg = consumer.poll(1.0)
            if msg is not None and msg.error() is None and msg.value() is not None:
                ops.append(json.loads(msg.value())["payload"]["op"])
            return bool(ops)

        try:
            wait_until(streaming, timeout=120, interval=0, what="the first change event")
            with db(SOURCE_DSN) as cur:
                cur.execute(f"INSERT INTO {table} SELECT seq, CONCAT('row ', seq), seq * 1.25, "
                            "TIMESTAMP'2026-01-02 03:04:05.123456' + INTERVAL seq HOUR, REPEAT('x', seq * 100) "
                            "FROM seq_1_to_50")
                cur.execute(f"UPDATE {table} SET name = CONCAT(name, ' (updated)'), amount = amount + 0.01 "
                            "WHERE id <= 10")
                cur.execute(f"DELETE FROM {table} WHERE id > 45 OR id = 0")

            def seen_all() -> bool:
                msg = consumer.poll(1.0)
                if msg is not None and msg.error() is None and msg.value() is not None:
                    ops.append(json.loads(msg.value())["payload"]["op"])
                return {"c", "u", "d"} <= set(ops)

            wait_until(seen_all, timeout=120, interval=0, what="c/u/d events on the topic")
        finally:
            consumer.close()
        expected = rows(SOURCE_DSN, table)
        assert len(expected) == 45
        wait_until(lambda: target_rows(table) == expected, timeout=120, what="MariaDB target equal to the source")
    finally:
        client.delete(sink_name)
        client.delete(source_name)
        with db(SOURCE_DSN) as cur:
            cur.execute(f"DROP TABLE IF EXISTS {table}")
        with db(TARGET_DSN) as cur:
            cur.execute(f"DROP TABLE IF EXISTS {table}")
        AdminClient({"bootstrap.servers": stack_env["KAFKA_BOOTSTRAP_SERVERS"]}).delete_topics([topic, history])
        for f in secret_dir.glob("*"):
            f.unlink()
        if secret_dir.exists():
            secret_dir.rmdir()
        client.close()
