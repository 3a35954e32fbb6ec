"""Helpers for engine e2e tests: a multi-type source schema, pipelines driven over the API, convergence checks."""

import random
import threading
import time
import uuid

import psycopg

from tests.support import connect, dsn_for, table_fingerprint, wait_until
from tests.test_connections import connection_body

BIG = "(SELECT string_agg(md5(random()::text || g), '') FROM generate_series(1, 625) g)"  # 20,000 chars

SCHEMA_DDL = """
CREATE TABLE {s}.items (
    id bigint PRIMARY KEY,
    name text NOT NULL,
    price numeric(12, 2),
    ratio numeric,
    created_at timestamptz NOT NULL DEFAULT now(),
    attrs jsonb,
    payload bytea,
    tags text[],
    scores integer[],
    big_text text
);
CREATE TABLE {s}.customers (
    id integer PRIMARY KEY,
    email varchar(200) NOT NULL,
    active boolean,
    born date,
    balance numeric(14, 4)
);
CREATE TABLE {s}.order_lines (
    order_id integer,
    line_no smallint,
    qty integer NOT NULL,
    note text,
    PRIMARY KEY (order_id, line_no)
);
"""

ITEM_VALUES = """
    SELECT g, 'item ' || g, (g % 1000) * 1.25, g / 7.0, now() - g * interval '1 minute',
           jsonb_build_object('g', g, 'even', g % 2 = 0, 'tags', jsonb_build_array('a', g)),
           decode(md5(g::text), 'hex'), ARRAY['t' || g, 'x'], ARRAY[g, g * 2],
           CASE WHEN g % 50 = 0 THEN {big} END
    FROM generate_series({lo}, {hi}) g
"""

TABLES = ("items", "customers", "order_lines")


def create_schema(source: psycopg.Connection, schema: str, rows: int) -> None:
    source.execute(f"CREATE SCHEMA {schema}")
    source.execute(SCHEMA_DDL.format(s=schema))
    if rows:
        seed(source, schema, 1, rows)


def seed(source: psycopg.Connection, schema: str, lo: int, hi: int) -> None:
    source.execute(f"INSERT INTO {schema}.items " + ITEM_VALUES.format(big=BIG, lo=lo, hi=hi))
    source.execute(f"INSERT INTO {schema}.customers SELECT g, 'user' || g || '@example.com', g % 3 = 0, "
                   f"date '1970-01-01' + g, g * 3.1415 FROM generate_series({lo}, {hi}) g")
    source.execute(f"INSERT INTO {schema}.order_lines SELECT g, l, g + l, 'note ' || g "
                   f"FROM generate_series({lo}, {hi}) g, generate_series(1, 2) l")


def fingerprints(conn: psycopg.Connection, schema: str, tables=TABLES) -> dict[str, tuple[int, str]]:
    order = {"items": "id", "customers": "id", "order_lines": "order_id, line_no"}
    return {t: table_fingerprint(conn, f"{schema}.{t}", order[t]) for t in tables}


class E2E:
    """One source schema, a source and a target connection, and the API to drive pipelines over them."""

    def __init__(self, client, headers, stack_env, rows: int, share=None) -> None:
        """`share(pipeline_id)` is called for each pipeline created, e.g. to grant a viewer access to it."""
        self.client, self.headers, self.env, self.share = client, headers, stack_env, share
        self.schema = f"e2e_{uuid.uuid4().hex[:10]}"
        self.source = connect(dsn_for(stack_env["PG_SUPERUSER_DSN"], "demo_source"))
        self.target = connect(dsn_for(stack_env["PG_SUPERUSER_DSN"], "demo_target"))
        create_schema(self.source, self.schema, rows)
        self.source_id = self._connection("source", "demo_source")
        self.target_id = self._connection("target", "demo_target")

    def _connection(self, kind: str, db: str, **overrides) -> str:
        response = self.client.post("/api/v1/connections", json=connection_body(self.env, kind, db, **overrides),
                                    headers=self.headers)
        assert response.status_code == 201, response.text
        return response.json()["id"]

    def create_pipeline(self, mode: str, tables=TABLES, source_id=None, target_id=None) -> str:
        response = self.client.post("/api/v1/pipelines", headers=self.headers, json={
            "name": f"e2e-{uuid.uuid4().hex[:8]}", "mode": mode, "source_connection_id": source_id or self.source_id,
            "target_connection_id": target_id or self.target_id, "tables": [f"{self.schema}.{t}" for t in tables]})
        assert response.status_code == 201, response.text
        pipeline_id = response.json()["id"]
        if self.share is not None:
            self.share(pipeline_id)
        return pipeline_id

    def action(self, pipeline_id: str, action: str, expect: int = 202) -> dict:
        response = self.client.post(f"/api/v1/pipelines/{pipeline_id}/{action}", headers=self.headers)
        assert response.status_code == expect, response.text
        return response.json()

    def status(self, pipeline_id: str) -> dict:
        response = self.client.get(f"/api/v1/pipelines/{pipeline_id}/status", headers=self.headers)
        assert response.status_code == 200, response.text
        return response.json()

    def wait_status(self, pipeline_id: str, wanted: str, timeout: float = 180, through_error: bool = False) -> dict:
        def check():
            s = self.status(pipeline_id)
            if s["status"] == "ERROR" and wanted != "ERROR" and not through_error:
                raise AssertionError(f"pipeline went to ERROR: {s['last_error']}")
            return s if s["status"] == wanted else None

        return wait_until(check, timeout, interval=0.5, what=f"pipeline {wanted}")

    def wait_healthy(self, pipeline_id: str, timeout: float = 15) -> dict:
        """Health ok within `timeout` (a probe pass or two after RUNNING); the problems seen last if not."""
        seen: list[dict] = []

        def check():
            s = self.status(pipeline_id)
            seen[:] = [s]
            return s if s["health"] == "ok" else None

        try:
            return wait_until(check, timeout, interval=0.5, what="health ok")
        except AssertionError:
            raise AssertionError(f"health not ok after {timeout}s: {seen[0]['health']} {seen[0]['problems']}") from None

    def wait_converged(self, timeout: float = 120, tables=TABLES) -> dict:
        expected = fingerprints(self.source, self.schema, tables)
        wait_until(lambda: fingerprints(self.target, self.schema, tables) == expected, timeout, interval=1,
                   what="target equal to source (row counts and ordered row hashes)")
        return expected

    def close(self, pipeline_ids: list[str]) -> None:
        for pid in pipeline_ids:
            status = self.status(pipeline_id=pid)["status"] if pid else None
            if status in ("RUNNING", "PAUSED", "STARTING", "ERROR"):
                self.client.post(f"/api/v1/pipelines/{pid}/stop", headers=self.headers)
                wait_until(lambda: self.status(pid)["status"] in ("STOPPED", "ERROR"), 90, what="stopped")
            self.client.delete(f"/api/v1/pipelines/{pid}", params={"force": "true"}, headers=self.headers)
        self.source.execute(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE")
        self.target.execute(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE")
        self.source.close()
        self.target.close()


class Writer(threading.Thread):
    """Inserts, updates and deletes rows of the source schema until stopped."""

    def __init__(self, dsn: str, schema: str, first_new_id: int, existing: int) -> None:
        super().__init__(daemon=True)
        self.dsn, self.schema, self.next_id, self.existing = dsn, schema, first_new_id, existing
        self.stop_event = threading.Event()
        self.ops = {"insert": 0, "update": 0, "delete": 0}
        self.error: Exception | None = None

    def run(self) -> None:
        rng = random.Random(42)
        try:
            with psycopg.connect(self.dsn, autocommit=True) as conn:
                while not self.stop_event.is_set():
                    op = rng.choice(("insert", "update", "update", "delete"))
                    s = self.schema
                    if op == "insert":
                        seed(conn, s, self.next_id, self.next_id)
                        self.next_id += 1
                    elif op == "update":
                        i = rng.randint(1, self.next_id)
                        conn.execute(f"UPDATE {s}.items SET price = price + 1, attrs = attrs || '{{\"w\": 1}}' "
                                     f"WHERE id = %s", (i,))
                        conn.execute(f"UPDATE {s}.customers SET active = NOT active WHERE id = %s", (i,))
                    else:
                        i = rng.randint(1, self.next_id)
                        conn.execute(f"DELETE FROM {s}.items WHERE id = %s", (i,))
                        conn.execute(f"DELETE FROM {s}.order_lines WHERE order_id = %s", (i,))
                    self.ops[op] += 1
                    time.sleep(0.002)
        except Exception as exc:  # surfaced by the test
            self.error = exc

    def finish(self) -> dict[str, int]:
        self.stop_event.set()
        self.join(30)
        assert self.error is None, f"writer failed: {self.error}"
        return self.ops
