"""The local stack is real and configured as the product needs: scram auth, logical WAL, Kafka, Connect plugins;
and stackctl recovers from a kill -9 (stale pid files, `up` restoring exactly what is missing)."""

import os
import subprocess
import uuid

import psycopg
import pytest
from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient

from tests.stack_support import alive, daemon_pid, kill9, postgres_pid, stackctl
from tests.support import connect, connect_client, dsn_for, wait_until


def test_postgres_refuses_a_wrong_password(stack_env):
    bad = stack_env["PG_SUPERUSER_DSN"].replace("postgres:", "postgres:wrong-", 1)
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(bad, connect_timeout=5)


def test_postgres_is_ready_for_logical_replication(stack_env):
    with connect(stack_env["PG_SUPERUSER_DSN"]) as conn:
        settings = dict(conn.execute(
            "SELECT name, setting FROM pg_settings WHERE name IN "
            "('wal_level', 'max_replication_slots', 'max_wal_senders', 'listen_addresses', 'password_encryption')"
        ).fetchall())
        databases = {r[0] for r in conn.execute("SELECT datname FROM pg_database").fetchall()}
    assert settings["wal_level"] == "logical"
    assert int(settings["max_replication_slots"]) >= 10 and int(settings["max_wal_senders"]) >= 10
    assert settings["listen_addresses"] == "127.0.0.1"
    assert settings["password_encryption"] == "scram-sha-256"
    assert {"cdcflow", "demo_source", "demo_target"} <= databases


def test_metadata_role_reaches_its_database(stack_env):
    with psycopg.connect(stack_env["DATABASE_URL"], connect_timeout=5) as conn:
        assert conn.execute("SELECT current_database(), current_user").fetchone() == ("cdcflow", "cdcflow")


def test_kafka_round_trips_a_message(stack_env):
    bootstrap = stack_env["KAFKA_BOOTSTRAP_SERVERS"]
    metadata = AdminClient({"bootstrap.servers": bootstrap}).list_topics(timeout=10)
    assert len(metadata.brokers) == 1
    topic, payload = f"cdcflow-test-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex.encode()
    producer = Producer({"bootstrap.servers": bootstrap})
    producer.produce(topic, payload)
    assert producer.flush(15) == 0
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": topic, "auto.offset.reset": "earliest"})
    consumer.subscribe([topic])
    try:
        received = None
        for _ in range(30):
            msg = consumer.poll(1.0)
            if msg is not None and msg.error() is None:
                received = msg.value()
                break
        assert received == payload
    finally:
        consumer.close()
        AdminClient({"bootstrap.servers": bootstrap}).delete_topics([topic])


def test_connect_lists_both_debezium_plugins(stack_env):
    with connect_client() as client:
        classes = {p["class"] for p in client.plugins()}
    assert "io.debezium.connector.postgresql.PostgresConnector" in classes
    assert "io.debezium.connector.mariadb.MariaDbConnector" in classes
    assert "io.debezium.connector.jdbc.JdbcSinkConnector" in classes


def test_demo_databases_accept_the_superuser(stack_env):
    for db in ("demo_source", "demo_target"):
        with connect(dsn_for(stack_env["PG_SUPERUSER_DSN"], db)) as conn:
            assert conn.execute("SELECT current_database()").fetchone()[0] == db


# ------------------------------------------------------------------------------------------- stackctl itself


def test_stale_pid_files_are_recognised_and_removed(tmp_path):
    """A pid file whose process is gone, or is not one this stack started, reads as stopped and goes away."""
    run = tmp_path / "run"
    run.mkdir()
    gone = subprocess.Popen(["true"])
    gone.wait()
    (run / "kafka.pid").write_text(f"{gone.pid}\n")
    (run / "connect.pid").write_text(f"{os.getpid()}\n")  # alive, but not a daemon of this stack directory
    (run / "api.pid").write_text("not-a-pid\n")
    result = stackctl("status", stack=tmp_path, timeout=60)
    assert result.returncode == 0, result.stderr
    assert {"kafka: stopped", "connect: stopped", "api: stopped", "web: stopped"} <= set(result.stdout.splitlines())
    assert sorted(p.name for p in run.iterdir()) == []
    assert "stale pid file of kafka" in result.stderr


def test_up_after_kill_9_restores_only_what_is_missing():
    """kill -9 the broker: `stackctl up` exits 0, brings back a ready broker, and leaves every other process be."""
    before = {name: daemon_pid(name) for name in ("connect", "api", "web")}
    postmaster = postgres_pid()
    killed = kill9("kafka")
    wait_until(lambda: not alive(killed), 10, interval=0.1, what="the broker to die")
    result = stackctl("up")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "stale pid file of kafka" in result.stderr
    restarted = daemon_pid("kafka")
    assert restarted not in (None, killed) and alive(restarted)
    assert {name: daemon_pid(name) for name in before} == before
    assert all(alive(pid) for pid in before.values() if pid is not None)
    assert postgres_pid() == postmaster
    assert "starting Kafka broker" in result.stderr
    assert "starting Kafka Connect" not in result.stderr and "starting PostgreSQL" not in result.stderr
    # Ready means usable: a round trip through the restarted broker.
    test_kafka_round_trips_a_message({"KAFKA_BOOTSTRAP_SERVERS": os.environ["KAFKA_BOOTSTRAP_SERVERS"]})


def test_mariadb_after_kill_9_comes_back_with_its_data_and_nothing_else_restarts():
    """kill -9 the MariaDB server: `stackctl up` restarts it (crash recovery keeps the committed demo rows and the
    accounts), and leaves every other process be."""
    from cdcflow.demo.mariadb_seed import endpoint_from_dsn
    from cdcflow.engine.mariadb.connection import connect as mariadb_connect

    before = {name: daemon_pid(name) for name in ("kafka", "connect", "api", "web")}
    postmaster = postgres_pid()
    killed = kill9("mariadb")
    wait_until(lambda: not alive(killed), 10, interval=0.1, what="MariaDB to die")
    result = stackctl("up")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "starting MariaDB" in result.stderr and "stale pid file of mariadb" in result.stderr
    assert "starting Kafka" not in result.stderr and "starting PostgreSQL" not in result.stderr
    restarted = daemon_pid("mariadb")
    assert restarted not in (None, killed) and alive(restarted)
    assert {name: daemon_pid(name) for name in before} == before and postgres_pid() == postmaster
    conn = mariadb_connect(endpoint_from_dsn(os.environ["MARIADB_DEMO_SOURCE_DSN"]), 10)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT COUNT(*) FROM customers")
            assert cur.fetchone()[0] >= 5000
    finally:
        conn.close()
