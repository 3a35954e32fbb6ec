"""The real data plane, no mocks: Debezium PostgreSQL source -> Kafka -> Debezium JDBC sink, driven over Connect REST.

Creates a table in demo_source, registers a pgoutput source (own slot and publication) and an upsert JDBC sink into
demo_target, runs INSERT/UPDATE/DELETE, and checks the topic carries c/u/d events and the target equals the source.
"""

import json
import uuid
from pathlib import Path

import pytest
from confluent_kafka import Consumer
from confluent_kafka.admin import AdminClient

from cdcflow.engine.connect.client import ConnectClient
from tests.support import connect, connect_client, dsn_for, table_fingerprint, wait_until

COLUMNS = """
    id          integer PRIMARY KEY,
    name        text NOT NULL,
    amount      numeric(12, 2),
    happened_at timestamptz,
    attrs       jsonb,
    big_note    text
"""


@pytest.fixture
def pipeline(stack_env):
    """Names, connections and a Connect client for one throwaway source->sink pair; cleans everything up."""
    suffix = uuid.uuid4().hex[:10]
    names = {
        "table": f"dp_{suffix}",
        "slot": f"dp_slot_{suffix}",
        "publication": f"dp_pub_{suffix}",
        "prefix": f"dptest_{suffix}",
        "source": f"dptest-{suffix}-source",
        "sink": f"dptest-{suffix}-sink",
    }
    names["topic"] = f"{names['prefix']}.public.{names['table']}"
    source = connect(dsn_for(stack_env["PG_SUPERUSER_DSN"], "demo_source"))
    target = connect(dsn_for(stack_env["PG_SUPERUSER_DSN"], "demo_target"))
    client = connect_client()
    secret_dir = Path(stack_env["CONNECT_SECRETS_DIR"]) / suffix
    try:
        yield names, source, target, client, secret_dir
    finally:
        client.delete(names["sink"])
        client.delete(names["source"])
        # The slot stays active for a moment after its connector goes away.
        wait_until(lambda: _drop_slot(source, names["slot"]), timeout=60, what="replication slot drop")
        source.execute(f"DROP PUBLICATION IF EXISTS {names['publication']}")
        source.execute(f"DROP TABLE IF EXISTS public.{names['table']}")
        target.execute(f"DROP TABLE IF EXISTS public.{names['table']}")
        AdminClient({"bootstrap.servers": stack_env["KAFKA_BOOTSTRAP_SERVERS"]}).delete_topics([names["topic"]])
        for f in secret_dir.glob("*"):
            f.unlink()
        if secret_dir.exists():
            secret_dir.rmdir()
        client.close()
        source.close()
        target.close()


def _drop_slot(conn, slot: str) -> bool:
    row = conn.execute("SELECT active FROM pg_replication_slots WHERE slot_name = %s", (slot,)).fetchone()
    if row is None:
        return True
    if row[0]:
        return False
    conn.execute("SELECT pg_drop_replication_slot(%s)", (slot,))
    return True


def _write_password(secret_dir: Path, dsn: str) -> str:
    """Store the DB password where Connect's DirectoryConfigProvider reads it; return the config reference."""
    secret_dir.mkdir(parents=True, exist_ok=True)
    password = dsn.split("://", 1)[1].split("@", 1)[0].split(":", 1)[1]
    (secret_dir / "password").write_text(password)
    return "${dir:%s:password}" % secret_dir


def _task_running(client: ConnectClient, name: str) -> bool:
    status = client.status(name)
    failed = [t for t in status.get("tasks", []) if t["state"] == "FAILED"]
    assert not failed, f"{name} task failed: {failed[0].get('trace', '')[:2000]}"
    return status["connector"]["state"] == "RUNNING" and any(t["state"] == "RUNNING" for t in status["tasks"])


def _consume_ops(bootstrap: str, topic: str, want: set[str], timeout: float = 60) -> list[str]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"dptest-{uuid.uuid4().hex[:6]}",
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.subscribe([topic])
    ops: list[str] = []
    try:
        def seen_all() -> bool:
            msg = consumer.poll(1.0)
            if msg is not None and msg.error() is None and msg.value() is not None:
                ops.append(json.loads(msg.value())["payload"]["op"])
            return want <= set(ops)

        wait_until(seen_all, timeout=timeout, interval=0, what=f"ops {want} on {topic}")
    finally:
        consumer.close()
    return ops


@pytest.mark.timeout(420)
def test_debezium_source_and_jdbc_sink_replicate_inserts_updates_and_deletes(stack_env, pipeline):
    names, source, target, client, secret_dir = pipeline
    table = f"public.{names['table']}"
    source.execute(f"CREATE TABLE {table} ({COLUMNS})")
    source.execute(f"ALTER TABLE {table} REPLICA IDENTITY FULL")
    target.execute(f"CREATE TABLE {table} ({COLUMNS})")
    password_ref = _write_password(secret_dir, stack_env["PG_SUPERUSER_DSN"])

    client.put_config(names["source"], {
        "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
        "tasks.max": "1",
        "database.hostname": stack_env["PG_HOST"],
        "database.port": stack_env["PG_PORT"],
        "database.user": "postgres",
        "database.password": password_ref,
        "database.dbname": "demo_source",
        "topic.prefix": names["prefix"],
        "plugin.name": "pgoutput",
        "slot.name": names["slot"],
        "publication.name": names["publication"],
        "publication.autocreate.mode": "filtered",
        "table.include.list": table,
        "snapshot.mode": "no_data",
    })
    client.put_config(names["sink"], {
        "connector.class": "io.debezium.connector.jdbc.JdbcSinkConnector",
        "tasks.max": "1",
        "topics": names["topic"],
        "connection.url": f"jdbc:postgresql://{stack_env['PG_HOST']}:{stack_env['PG_PORT']}/demo_target",
        "connection.username": "postgres",
        "connection.password": password_ref,
        "insert.mode": "upsert",
        "primary.key.mode": "record_key",
        "delete.enabled": "true",
        "schema.evolution": "none",
        "collection.name.format": "${source.schema}.${source.table}",
    })
    # The password never comes back in clear through Connect's REST API.
    assert client.get_config(names["source"])["database.password"] == password_ref

    wait_until(lambda: _task_running(client, names["source"]), timeout=120, what="source task RUNNING")
    wait_until(lambda: _task_running(client, names["sink"]), timeout=120, what="sink task RUNNING")
    # Changes count from the moment the slot exists and streams.
    wait_until(lambda: source.execute("SELECT active FROM pg_replication_slots WHERE slot_name = %s",
                                      (names["slot"],)).fetchone() == (True,),
               timeout=120, what="replication slot active")

    big = "x" * 12_000  # larger than a TOAST page
    source.execute(
        f"INSERT INTO {table} SELECT g, 'row ' || g, g * 1.25, now() - g * interval '1 hour', "
        f"jsonb_build_object('g', g, 'tags', jsonb_build_array('a', 'b')), CASE WHEN g %% 2 = 0 THEN %s END "
        f"FROM generate_series(1, 50) g", (big,))
    source.execute(f"UPDATE {table} SET name = name || ' (updated)', amount = amount + 0.01 WHERE id <= 10")
    source.execute(f"UPDATE {table} SET attrs = attrs || '{{\"changed\": true}}' WHERE id = 2")
    source.execute(f"DELETE FROM {table} WHERE id > 45")

    ops = _consume_ops(stack_env["KAFKA_BOOTSTRAP_SERVERS"], names["topic"], {"c", "u", "d"})
    assert {"c", "u", "d"} <= set(ops)

    expected = table_fingerprint(source, table)
    assert expected[0] == 45
    wait_until(lambda: table_fingerprint(target, table) == expected, timeout=120,
               what="target table equal to source")
    # The unchanged TOAST column survived the updates (REPLICA IDENTITY FULL carries it).
    assert target.execute(f"SELECT length(big_note) FROM {table} WHERE id = 2").fetchone() == (len(big),)
