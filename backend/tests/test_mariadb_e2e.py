"""PostgreSQL and MariaDB in all four directions on the real stack (PostgreSQL, MariaDB, Kafka, Connect): each
pipeline in FULL_LOAD_AND_CDC under a concurrent writer (inserts, updates, deletes during the load and after), then
the target equals the source by row count and by a per-row hash over one canonical text form
(cdcflow.engine.canonical). A `kinds` table holding every mapped type with edge values travels the load path (rows
present at start) and the change path (rows written while streaming), in both directions."""

import os
import random
import threading
import time
import uuid

import psycopg
import pymysql
import pytest
from confluent_kafka.admin import AdminClient
from psycopg.types.string import TextLoader

from cdcflow.demo.mariadb_seed import endpoint_from_dsn
from cdcflow.engine.canonical import fingerprint
from cdcflow.engine.mariadb.session import connect as mariadb_connect
from cdcflow.engine.mariadb.catalog import read_table as mariadb_table
from cdcflow.engine.names import ResourceNames
from cdcflow.engine.postgres.ddl import read_table as postgres_table
from tests.support import dsn_for, wait_until
from tests.test_connections import connection_body

pytestmark = pytest.mark.timeout(900)

ROWS = 3000
BIG_TEXT = "zß€😀" * 50_000          # 200,000 characters, 4-byte UTF-8 included
BIG_BLOB = bytes(range(256)) * 400   # 102,400 bytes, every byte value

PG_DDL = """
CREATE TYPE {s}.mood AS ENUM ('happy', 'sad');
CREATE TABLE {s}.items (id bigint PRIMARY KEY, name varchar(100) NOT NULL, price numeric(12,2), qty integer,
                        active boolean, created_at timestamptz, attrs jsonb, payload bytea, note text);
CREATE TABLE {s}.kinds (id integer PRIMARY KEY, n_scale numeric(20,6), n_free numeric, big bigint, small smallint,
                        dbl double precision, flag boolean, d date, ts timestamp(6), tstz timestamptz, t time(6),
                        j jsonb, blob bytea, long_text text, vc varchar(20), u uuid, mood {s}.mood);
"""
MARIADB_DDL = (
    "CREATE TABLE items (id BIGINT PRIMARY KEY, name VARCHAR(100) NOT NULL, price DECIMAL(12,2), qty INT, "
    "active TINYINT(1), created_at DATETIME(6), attrs JSON, payload LONGBLOB, note LONGTEXT)",
    "CREATE TABLE kinds (id INT PRIMARY KEY, n_scale DECIMAL(20,6), n_free DECIMAL(65,30), big BIGINT, "
    "small SMALLINT, dbl DOUBLE, flag TINYINT(1), d DATE, ts DATETIME(6), tstz TIMESTAMP(6) NULL, t TIME(6), "
    "j JSON, `blob` LONGBLOB, long_text LONGTEXT, vc VARCHAR(20), u CHAR(36), mood ENUM('happy', 'sad'))",
)

# (id, n_scale, n_free, big, small, dbl, flag, d, ts, tstz (UTC), t, j, blob, long_text, vc, u, mood)
KINDS = [
    (1, "12345678901234.123456", "1.5", 9223372036854775807, -32768, 1e300, True, "1970-01-01",
     "2024-02-29 23:59:59.999999", "2024-06-30 20:30:00.123456", "23:59:59.999999",
     '{"b": [1, 2.5, "x"], "a": null, "ü": "é"}', BIG_BLOB, BIG_TEXT, "äöü€ twenty chars!!", str(uuid.uuid4()),
     "sad"),
    (2, "-0.000001", "0", -9223372036854775808, 32767, -2.5e-300, False, "2999-12-31", "2000-01-01 00:00:00",
     "2037-12-31 23:59:59", "00:00:00", '[]', b"\x00", "", "", str(uuid.uuid4()), "happy"),
    (3, None, None, None, None, None, None, None, None, None, None, None, None, None, None, None, None),
]


def _kinds_values(base: int):
    return [(base + r[0],) + r[1:] for r in KINDS]


class Side:
    """One database end of a pipeline: its connection for the API, a writer session and canonical fingerprints."""

    def __init__(self, kind: str, database_type: str, stack_env: dict, client, headers) -> None:
        self.type, self.env = database_type, stack_env
        self.name = f"x4_{uuid.uuid4().hex[:8]}"
        if database_type == "postgresql":
            self.db = "demo_source" if kind == "source" else "demo_target"
            self.dsn = dsn_for(stack_env["PG_SUPERUSER_DSN"], self.db)
            body = connection_body(stack_env, kind, self.db)
            self.schema = self.name  # pipeline tables are <schema>.<table>; the target creates the schema
        else:
            admin = endpoint_from_dsn(os.environ["MARIADB_ADMIN_DSN"], "mysql")
            with mariadb_connect(admin, 10) as conn, conn.cursor() as cur:
                cur.execute(f"CREATE DATABASE {self.name}")
            self.endpoint = endpoint_from_dsn(os.environ["MARIADB_ADMIN_DSN"], self.name)
            body = {"name": f"x4-{kind}-{self.name}", "connection_type": kind, "database_type": "mariadb",
                    "host": self.endpoint.host, "port": self.endpoint.port, "database": self.name,
                    "username": self.endpoint.username, "password": self.endpoint.password}
            self.schema = self.name   # a MariaDB database is the schema; a MariaDB target keeps tables in its own
        response = client.post("/api/v1/connections", json=body, headers=headers)
        assert response.status_code == 201, response.text
        self.connection_id = response.json()["id"]

    def session(self):
        if self.type == "postgresql":
            conn = psycopg.connect(self.dsn, autocommit=True)
            conn.execute("SET TimeZone = 'UTC'")
            for name in ("json", "jsonb"):
                conn.adapters.register_loader(name, TextLoader)
            return conn
        return mariadb_connect(self.endpoint, 10)

    def execute(self, conn, statement: str, params=None) -> None:
        if self.type == "postgresql":
            conn.execute(statement, params)
        else:
            with conn.cursor() as cur:
                cur.execute(statement, params)  # None: no %-formatting, so "id % 7" stays as it is

    def create_source_tables(self, rows: bool = True) -> None:
        with self.session() as conn:
            if self.type == "postgresql":
                conn.execute(f"CREATE SCHEMA {self.schema}")
                conn.execute(PG_DDL.format(s=self.schema))
            else:
                for statement in MARIADB_DDL:
                    self.execute(conn, statement)
            if rows:
                self.insert_items(conn, 1, ROWS)
                self.insert_kinds(conn, 0)

    def insert_items(self, conn, lo: int, hi: int) -> None:
        rows = [(i, f"item {i}", f"{i % 1000}.{i % 100:02d}", i % 17, i % 3 == 0,
                 f"2024-01-01 00:00:00.{i % 1000000:06d}", f'{{"i": {i}, "even": {str(i % 2 == 0).lower()}}}',
                 i.to_bytes(4, "big"), "n" * (i % 50)) for i in range(lo, hi + 1)]
        self.executemany(conn, f"INSERT INTO {self.schema}.items VALUES ({', '.join(['%s'] * 9)})", rows)

    def insert_kinds(self, conn, base: int) -> None:
        self.executemany(conn, f"INSERT INTO {self.schema}.kinds VALUES ({', '.join(['%s'] * 17)})",
                         _kinds_values(base))

    def executemany(self, conn, statement: str, rows) -> None:
        if self.type == "postgresql":
            with conn.cursor() as cur:
                cur.executemany(statement, rows)
        else:
            with conn.cursor() as cur:
                cur.executemany(statement, rows)

    def table_def(self, conn, schema: str, table: str):
        if self.type == "postgresql":
            return postgres_table(conn, schema, table)
        return mariadb_table(conn, schema, table)

    def fingerprints(self, schema: str) -> dict[str, tuple[int, str]]:
        result = {}
        with self.session() as conn:
            for table in ("items", "kinds"):
                definition = self.table_def(conn, schema, table)
                if definition is None:
                    result[table] = None
                    continue
                columns = ", ".join((f'"{c.name}"' if self.type == "postgresql" else f"`{c.name}`")
                                    for c in definition.columns)
                statement = f"SELECT {columns} FROM {schema}.{table} ORDER BY id"
                if self.type == "postgresql":
                    rows = conn.execute(statement).fetchall()
                else:
                    with conn.cursor() as cur:
                        cur.execute(statement)
                        rows = cur.fetchall()
                result[table] = fingerprint(rows, [c.type for c in definition.columns])
        return result

    def drop(self) -> None:
        with self.session() as conn:
            if self.type == "postgresql":
                conn.execute(f"DROP SCHEMA IF EXISTS {self.name} CASCADE")
            else:
                self.execute(conn, f"DROP DATABASE IF EXISTS {self.name}")


class Writer(threading.Thread):
    """Inserts, updates and deletes on the source's items table until stopped; every statement commits."""

    def __init__(self, side: Side, first_id: int) -> None:
        super().__init__(daemon=True)
        self.side, self.next_id, self.stop_event, self.error, self.ops = side, first_id, threading.Event(), None, 0

    def run(self) -> None:
        rng = random.Random(7)
        try:
            with self.side.session() as conn:
                s = self.side.schema
                while not self.stop_event.is_set():
                    self.side.insert_items(conn, self.next_id, self.next_id + 4)
                    self.next_id += 5
                    target = rng.randint(1, self.next_id - 1)
                    self.side.execute(conn, f"UPDATE {s}.items SET name = %s, price = %s WHERE id = %s",
                                      (f"upd {self.ops}", f"{rng.randint(0, 9999)}.{rng.randint(0, 99):02d}", target))
                    self.side.execute(conn, f"DELETE FROM {s}.items WHERE id = %s",
                                      (rng.randint(1, self.next_id - 1),))
                    self.ops += 1
                    time.sleep(0.01)  # a steady trickle, not a flood: the point is overlap with the load
        except Exception as exc:  # surfaced by the test
            self.error = exc


def _status(client, headers, pid: str) -> dict:
    response = client.get(f"/api/v1/pipelines/{pid}/status", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def _wait_status(client, headers, pid: str, wanted: str, timeout: float) -> dict:
    def check():
        s = _status(client, headers, pid)
        if s["status"] == "ERROR":
            raise AssertionError(f"pipeline went to ERROR: {s['last_error']}")
        return s if s["status"] == wanted else None
    return wait_until(check, timeout, interval=0.5, what=f"pipeline {wanted}")


@pytest.mark.parametrize("source_type,target_type", [
    ("postgresql", "postgresql"), ("postgresql", "mariadb"), ("mariadb", "postgresql"), ("mariadb", "mariadb")])
def test_full_load_and_cdc_under_a_concurrent_writer_is_exact(client, auth, stack_env, source_type, target_type):
    headers = auth["operator"]
    source = Side("source", source_type, stack_env, client, headers)
    target = Side("target", target_type, stack_env, client, headers)
    # Where the tables land: PostgreSQL keeps the source schema; a MariaDB target its connection's database.
    target_schema = target.name if target_type == "mariadb" else source.schema
    pid = None
    try:
        source.create_source_tables()
        response = client.post("/api/v1/pipelines", headers=headers, json={
            "name": f"x4-{uuid.uuid4().hex[:8]}", "mode": "full_load_and_cdc",
            "source_connection_id": source.connection_id, "target_connection_id": target.connection_id,
            "tables": [f"{source.schema}.items", f"{source.schema}.kinds"]})
        assert response.status_code == 201, response.text
        pid = response.json()["id"]

        writer = Writer(source, ROWS + 1)
        writer.start()
        wait_until(lambda: writer.ops >= 5 or writer.error, 30, what="the writer running before the start")
        response = client.post(f"/api/v1/pipelines/{pid}/start", headers=headers)
        assert response.status_code == 202, response.text
        _wait_status(client, headers, pid, "RUNNING", 240)
        ops_at_running = writer.ops
        # The change path for every mapped type, then more writes after the hand-off.
        with source.session() as conn:
            source.insert_kinds(conn, 100)
        wait_until(lambda: writer.ops >= ops_at_running + 50 or writer.error, 60, what="writes after RUNNING")
        writer.stop_event.set()
        writer.join(30)
        assert writer.error is None, writer.error

        expected = source.fingerprints(source.schema)
        assert expected["items"][0] > ROWS and expected["kinds"][0] == 6
        def converged():
            assert _status(client, headers, pid)["status"] == "RUNNING", _status(client, headers, pid)["last_error"]
            return target.fingerprints(target_schema) == expected

        wait_until(converged, 180, interval=1,
                   what=f"{source_type} -> {target_type}: target equal to source by count and row hash")
        # Monitoring judges the pipeline healthy, whichever databases it joins.
        health: list[dict] = []

        def healthy():
            health[:] = [_status(client, headers, pid)]
            return health[0]["health"] == "ok"

        try:
            wait_until(healthy, 30, interval=1, what="health ok")
        except AssertionError:
            raise AssertionError(f"health {health[0]['health']}: {health[0]['problems']}") from None
        # The product's own verification says the same, across databases too.
        stats = client.post(f"/api/v1/pipelines/{pid}/sync-stats", headers=headers)
        assert stats.status_code == 200, stats.text
        assert stats.json()["match"], stats.json()
        assert {t["table"]: t["target_rows"] for t in stats.json()["tables"]} == \
            {"items": expected["items"][0], "kinds": 6}

        if source_type == "mariadb":
            # Stop, change the source while stopped, start: the connector resumes from its stored binlog offset
            # (not the load's), so the changes made while stopped arrive and nothing is applied from before.
            assert client.post(f"/api/v1/pipelines/{pid}/stop", headers=headers).status_code == 202
            _wait_status(client, headers, pid, "STOPPED", 90)
            with source.session() as conn:
                source.insert_items(conn, 900_000, 900_010)
                source.execute(conn, f"DELETE FROM {source.schema}.items WHERE id <= 10")
                source.execute(conn, f"UPDATE {source.schema}.kinds SET vc = 'after restart' WHERE id = 1")
            assert client.post(f"/api/v1/pipelines/{pid}/start", headers=headers).status_code == 202
            _wait_status(client, headers, pid, "RUNNING", 120)
            expected = source.fingerprints(source.schema)
            wait_until(converged, 120, interval=1, what="target equal to source after a stop and start")

        run = client.get(f"/api/v1/pipelines/{pid}/progress", headers=headers).json()["last_run"]
        print(f"\n{source_type} -> {target_type}: full load {run['rows']} rows in {run['seconds']} s "
              f"({run['rows_per_second']} rows/s); writer ops {writer.ops}")
    finally:
        if pid:
            if _status(client, headers, pid)["status"] in ("RUNNING", "PAUSED", "STARTING", "ERROR"):
                client.post(f"/api/v1/pipelines/{pid}/stop", headers=headers)
                wait_until(lambda: _status(client, headers, pid)["status"] in ("STOPPED", "ERROR"), 90,
                           what="stopped")
            client.delete(f"/api/v1/pipelines/{pid}", params={"force": "true"}, headers=headers)
        for side in (source, target):
            try:
                side.drop()
            except (psycopg.Error, pymysql.Error):
                pass
        if target_type == "postgresql":
            with psycopg.connect(target.dsn, autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA IF EXISTS {target_schema} CASCADE")


def test_cdc_only_from_mariadb_streams_from_the_start_position(client, auth, stack_env):
    """CDC only: no load, the connector starts at the binlog position of the start (rows written before it are not
    copied), and every change after it arrives."""
    headers = auth["operator"]
    source = Side("source", "mariadb", stack_env, client, headers)
    target = Side("target", "postgresql", stack_env, client, headers)
    pid = None
    try:
        source.create_source_tables(rows=False)
        with source.session() as conn:
            source.insert_items(conn, 1, 5)  # before the start: not part of a CDC-only pipeline
        response = client.post("/api/v1/pipelines", headers=headers, json={
            "name": f"x4-{uuid.uuid4().hex[:8]}", "mode": "cdc_only", "source_connection_id": source.connection_id,
            "target_connection_id": target.connection_id,
            "tables": [f"{source.schema}.items", f"{source.schema}.kinds"]})
        assert response.status_code == 201, response.text
        pid = response.json()["id"]
        assert client.post(f"/api/v1/pipelines/{pid}/start", headers=headers).status_code == 202
        _wait_status(client, headers, pid, "RUNNING", 120)
        with source.session() as conn:
            source.execute(conn, f"DELETE FROM {source.schema}.items")
            source.insert_items(conn, 100, 400)
            source.execute(conn, f"UPDATE {source.schema}.items SET name = 'changed' WHERE id % 7 = 0")
            source.execute(conn, f"DELETE FROM {source.schema}.items WHERE id % 11 = 0")
            source.insert_kinds(conn, 0)
        expected = source.fingerprints(source.schema)

        def converged():
            assert _status(client, headers, pid)["status"] == "RUNNING", _status(client, headers, pid)["last_error"]
            return target.fingerprints(source.schema) == expected

        wait_until(converged, 120, interval=1, what="CDC-only target equal to the source")

        # Deleting the pipeline removes its connector's schema history topic with its change topics.
        history = ResourceNames(uuid.UUID(pid)).schema_history_topic
        admin = AdminClient({"bootstrap.servers": stack_env["KAFKA_BOOTSTRAP_SERVERS"]})
        assert history in admin.list_topics(timeout=10).topics
        assert client.post(f"/api/v1/pipelines/{pid}/stop", headers=headers).status_code == 202
        _wait_status(client, headers, pid, "STOPPED", 90)
        assert client.delete(f"/api/v1/pipelines/{pid}", headers=headers).status_code == 204
        pid = None
        wait_until(lambda: history not in admin.list_topics(timeout=10).topics, 30, what="schema history deleted")
    finally:
        if pid:
            client.post(f"/api/v1/pipelines/{pid}/stop", headers=headers)
            wait_until(lambda: _status(client, headers, pid)["status"] in ("STOPPED", "ERROR"), 90, what="stopped")
            client.delete(f"/api/v1/pipelines/{pid}", params={"force": "true"}, headers=headers)
        source.drop()
        with psycopg.connect(target.dsn, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {source.schema} CASCADE")
