"""When the API dies during a start: the job's lease lapses, another API process takes it over, and the pipeline can
be started again at once (target exact). Also: full-load progress for a table without statistics."""

import os
import threading
import time
import uuid

import httpx
import psycopg
import pytest
from sqlalchemy import text

from cdcflow.core.config import Settings
from cdcflow.core.db import session_scope
from cdcflow.engine.endpoints import DatabaseEndpoint
from cdcflow.engine.fullload.copier import open_snapshot_reader
from cdcflow.engine.fullload.estimate import estimate_rows
from cdcflow.engine.jobs import Cancelled, JobRunner
from cdcflow.engine.leases import JobLeases
from cdcflow.engine.names import ResourceNames
from cdcflow.engine.postgres.ddl import read_table
from cdcflow.pipelines.watchdog import JobWatchdog
from cdcflow.engine.context import EngineContext
from cdcflow.pipelines.states import fire
from cdcflow.pipelines.status import table_percent
from tests.stack_support import alive, daemon_pid, kill9, stackctl
from tests.support import connect, connect_client, dsn_for, table_fingerprint, wait_until
from tests.test_connections import connection_body, superuser_password

pytestmark = pytest.mark.timeout(600)
API = os.environ["CDCFLOW_API_URL"]
ROWS = 300_000


class Server:
    """The API server started by stackctl app-up (the process this test kills), as an operator."""

    def __init__(self, users) -> None:
        self.credentials = users["operator"]
        self.http = httpx.Client(base_url=f"{API}/api/v1", timeout=30)
        self.login()

    def login(self) -> None:
        token = httpx.post(f"{API}/api/v1/auth/login", json=self.credentials, timeout=30).json()["access_token"]
        self.http.headers["Authorization"] = f"Bearer {token}"

    def call(self, method: str, path: str, expect: int | tuple = 200, **kwargs) -> dict:
        response = self.http.request(method, path, **kwargs)
        expected = expect if isinstance(expect, tuple) else (expect,)
        assert response.status_code in expected, f"{method} {path}: {response.status_code} {response.text}"
        return response.json() if response.content else {}


def slot_exists(source: psycopg.Connection, pipeline_id: str) -> bool:
    return source.execute("SELECT 1 FROM pg_replication_slots WHERE slot_name = %s",
                          (ResourceNames(uuid.UUID(pipeline_id)).slot,)).fetchone() is not None


def test_api_killed_during_full_load_can_start_again_within_60_s(users, stack_env):
    schema = f"rec_{uuid.uuid4().hex[:8]}"
    source = connect(dsn_for(stack_env["PG_SUPERUSER_DSN"], "demo_source"))
    target = connect(dsn_for(stack_env["PG_SUPERUSER_DSN"], "demo_target"))
    # Never analyzed (autovacuum off): reltuples = -1, the case that used to read 99.9 % from the first row.
    source.execute(f"CREATE SCHEMA {schema}")
    source.execute(f"CREATE TABLE {schema}.big (id bigint PRIMARY KEY, note text NOT NULL, amount numeric(12, 2), "
                   f"at timestamptz NOT NULL) WITH (autovacuum_enabled = false)")
    source.execute(f"INSERT INTO {schema}.big SELECT g, repeat(md5(g::text), 4), g / 100.0, "
                   f"timestamptz '2024-01-01' + g * interval '1 second' FROM generate_series(1, {ROWS}) g")
    # On a quiet machine 300k rows copy in under a second, too fast to kill the API in the middle. The target
    # table exists already (the load creates it IF NOT EXISTS and truncates it); a row trigger pausing every
    # 1,000th row holds the load at ~6 s by COPY's own back-pressure, whatever the machine's speed.
    target.execute(f"CREATE SCHEMA {schema}")
    target.execute(f"CREATE TABLE {schema}.big (id bigint PRIMARY KEY, note text NOT NULL, amount numeric(12, 2), "
                   f"at timestamptz NOT NULL)")
    target.execute(f"CREATE FUNCTION {schema}.slow() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                   f"IF NEW.id % 1000 = 0 THEN PERFORM pg_sleep(0.02); END IF; RETURN NEW; END $$")
    target.execute(f"CREATE TRIGGER slow BEFORE INSERT ON {schema}.big FOR EACH ROW EXECUTE FUNCTION {schema}.slow()")
    server = Server(users)
    web_pid = daemon_pid("web")
    pid = None
    try:
        src = server.call("POST", "/connections", 201, json=connection_body(stack_env))["id"]
        tgt = server.call("POST", "/connections", 201,
                          json=connection_body(stack_env, "target", "demo_target"))["id"]
        pid = server.call("POST", "/pipelines", 201, json={
            "name": f"rec-{uuid.uuid4().hex[:8]}", "mode": "full_load_and_cdc", "source_connection_id": src,
            "target_connection_id": tgt, "tables": [f"{schema}.big"]})["id"]
        server.call("POST", f"/pipelines/{pid}/start", 202)

        def copying():
            progress = server.call("GET", f"/pipelines/{pid}/progress")
            table = progress["tables"][0]
            return progress if table["state"] == "COPYING" and table["rows_copied"] > 0 else None

        progress = wait_until(copying, 120, interval=0.2, what="the full load copying rows")
        table = progress["tables"][0]
        assert table["rows_estimated"] == ROWS  # counted in the snapshot: the table has no statistics
        assert table["percent"] is not None and table["percent"] < 99.9
        assert table["percent"] == pytest.approx(100 * table["rows_copied"] / ROWS, abs=0.1)

        killed_at = time.monotonic()
        kill9("api")
        assert slot_exists(source, pid), "the load's slot should still be there, holding WAL"
        restarted = stackctl("app-up")
        assert restarted.returncode == 0, restarted.stderr[-3000:]
        assert daemon_pid("web") == web_pid and (web_pid is None or alive(web_pid)), "the web app was restarted"
        server.login()  # same token secret, but a fresh token costs nothing and proves the new API answers

        def interrupted():
            status = server.call("GET", f"/pipelines/{pid}/status")
            return status if status["status"] != "STARTING" else None

        status = wait_until(interrupted, 60, interval=0.5, what="the interrupted start to be noticed")
        assert status["status"] == "ERROR", status
        assert status["last_error"].startswith("Start interrupted"), status["last_error"]
        assert not slot_exists(source, pid), "the dead load's slot was not released"
        with psycopg.connect(stack_env["DATABASE_URL"]) as meta:
            assert meta.execute("SELECT count(*) FROM pipeline_runs WHERE pipeline_id = %s AND run_type = "
                                "'FULL_LOAD'", (pid,)).fetchone()[0] == 0, "the kill came after the load completed"
        noticed = time.monotonic() - killed_at
        target.execute(f"DROP TRIGGER slow ON {schema}.big")  # the second load runs at full speed
        server.call("POST", f"/pipelines/{pid}/start", 202)
        allowed = time.monotonic() - killed_at
        assert allowed < 60, "start was not allowed again within 60 s of the kill"
        print(f"\n[recovery] kill -9 -> ERROR 'Start interrupted' {noticed:.1f} s, start accepted {allowed:.1f} s")

        wait_until(lambda: server.call("GET", f"/pipelines/{pid}/status")["status"] == "RUNNING", 240,
                   what="the pipeline RUNNING again")
        # Changes after the new snapshot stream in too: no gap, no overlap.
        source.execute(f"UPDATE {schema}.big SET amount = -1 WHERE id % 1000 = 0")
        source.execute(f"INSERT INTO {schema}.big VALUES ({ROWS + 1}, 'new', 1, now())")
        expected = table_fingerprint(source, f"{schema}.big")
        wait_until(lambda: table_fingerprint(target, f"{schema}.big") == expected, 180, interval=1,
                   what="target equal to source (row count and ordered row hash)")
        assert expected[0] == ROWS + 1
    finally:
        # Whatever failed above, later tests need the stack's API: bring it back if it is not running.
        if not alive(daemon_pid("api")):
            print(stackctl("app-up").stderr[-3000:])
            server.login()
        if pid:
            status = server.call("GET", f"/pipelines/{pid}/status")["status"]
            if status in ("RUNNING", "STARTING", "ERROR", "PAUSED"):
                server.call("POST", f"/pipelines/{pid}/stop", 202)
                wait_until(lambda: server.call("GET", f"/pipelines/{pid}/status")["status"] in ("STOPPED", "ERROR"),
                           120, what="stopped")
            server.call("DELETE", f"/pipelines/{pid}", 204, params={"force": "true"})
        source.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        target.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        source.close()
        target.close()


# ------------------------------------------------------------------- the watchdog's decisions, one pass at a time


@pytest.fixture
def lapsed(app, client, auth, stack_env):
    """Pipelines on a one-table schema, put into the states a dead process leaves behind, and a watchdog of a
    second "process" (its own lease identity and job runner) to take them over."""
    schema = f"wd_{uuid.uuid4().hex[:8]}"
    source = connect(dsn_for(stack_env["PG_SUPERUSER_DSN"], "demo_source"))
    source.execute(f"CREATE SCHEMA {schema}")
    source.execute(f"CREATE TABLE {schema}.t (id int PRIMARY KEY)")
    src = client.post("/api/v1/connections", json=connection_body(stack_env), headers=auth["operator"]).json()["id"]
    tgt = client.post("/api/v1/connections", json=connection_body(stack_env, "target", "demo_target"),
                      headers=auth["operator"]).json()["id"]
    created = []

    def make(status: str, full_load_status: str, heartbeat: str, cancel: bool = False, kind: str = "start") -> str:
        pid = client.post("/api/v1/pipelines", headers=auth["operator"], json={
            "name": f"wd-{uuid.uuid4().hex[:8]}", "mode": "full_load_and_cdc", "source_connection_id": src,
            "target_connection_id": tgt, "tables": [f"{schema}.t"]}).json()["id"]
        created.append(pid)
        with session_scope(app.state.session_factory) as session:
            session.execute(text("UPDATE pipelines SET status = :s, full_load_status = :f WHERE id = :id"),
                            {"s": status, "f": full_load_status, "id": pid})
            session.execute(text("UPDATE pipeline_tables SET state = 'COPYING', rows_copied = 5 WHERE pipeline_id = "
                                 ":id"), {"id": pid})
            session.execute(text("INSERT INTO pipeline_jobs (pipeline_id, kind, owner, heartbeat_at, cancel_requested)"
                                 " VALUES (:id, :kind, 'dead-host:1:x', now() - CAST(:hb AS interval), :c)"),
                            {"id": pid, "kind": kind, "hb": heartbeat, "c": cancel})
        return pid

    jobs = JobRunner()
    ctx = EngineContext(Settings(), app.state.secret_box, app.state.session_factory,
                        JobLeases("second-process:2:y", lease_seconds=15))
    yield make, JobWatchdog(ctx, jobs, interval=1), source
    jobs.shutdown()
    for pid in created:
        with session_scope(app.state.session_factory) as session:
            session.execute(text("DELETE FROM pipeline_jobs WHERE pipeline_id = :id"), {"id": pid})
            session.execute(text("UPDATE pipelines SET status = 'STOPPED' WHERE id = :id"), {"id": pid})
        client.delete(f"/api/v1/pipelines/{pid}", params={"force": "true"}, headers=auth["operator"])
    source.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    source.close()


def pipeline_row(app, pid: str) -> dict:
    with app.state.session_factory() as session:
        row = session.execute(text("SELECT p.status, p.full_load_status, p.last_error, j.owner FROM pipelines p "
                                   "LEFT JOIN pipeline_jobs j ON j.pipeline_id = p.id WHERE p.id = :id"),
                              {"id": pid}).one()
        states = session.scalars(text("SELECT state FROM pipeline_tables WHERE pipeline_id = :id"), {"id": pid}).all()
    return {"status": row[0], "full_load_status": row[1], "last_error": row[2], "owner": row[3], "tables": states}


def test_watchdog_releases_a_dead_load_and_leaves_live_leases_alone(app, lapsed):
    make, watchdog, source = lapsed
    dead_load = make("STARTING", "RUNNING", "1 minute")
    source.execute("SELECT pg_create_logical_replication_slot(%s, 'pgoutput')",
                   (ResourceNames(uuid.UUID(dead_load)).slot,))
    live = make("STARTING", "RUNNING", "0 seconds")
    stopping = make("STOPPING", "COMPLETED", "1 minute", kind="stop")
    cancelled = make("STARTING", "RUNNING", "1 minute", cancel=True)
    watchdog.run_once()
    # A fresh lease belongs to a live process: untouched.
    assert pipeline_row(app, live) | {"tables": None} == {"status": "STARTING", "full_load_status": "RUNNING",
                                                          "last_error": None, "owner": "dead-host:1:x",
                                                          "tables": None}

    row = wait_until(lambda: r if (r := pipeline_row(app, dead_load))["status"] != "STARTING" else None, 30,
                     what="the dead load released")
    assert row["status"] == "ERROR" and row["last_error"].startswith("Start interrupted"), row
    assert f"Released: replication slot {ResourceNames(uuid.UUID(dead_load)).slot}" in row["last_error"]
    assert row["full_load_status"] == "FAILED" and row["tables"] == ["FAILED"] and row["owner"] is None
    assert source.execute("SELECT count(*) FROM pg_replication_slots WHERE slot_name = %s",
                          (ResourceNames(uuid.UUID(dead_load)).slot,)).fetchone()[0] == 0
    # A stop is simply run again; a stop asked of a dead start ends it in STOPPED.
    for pid in (stopping, cancelled):
        row = wait_until(lambda: r if (r := pipeline_row(app, pid))["status"] == "STOPPED" else None, 60,
                         what="STOPPED")
        assert row["last_error"] is None and row["owner"] is None


def test_a_job_that_lost_its_lease_does_not_overwrite_the_new_owner(app, lapsed):
    make, watchdog, _ = lapsed
    pid = make("STARTING", "RUNNING", "0 seconds")  # fresh: no watchdog of this test run takes it meanwhile
    ctx = watchdog.ctx
    # The "dead" process was only stalled: its job now finishes, after the second process took the lease.
    with session_scope(app.state.session_factory) as session:
        session.execute(text("UPDATE pipeline_jobs SET owner = :me WHERE pipeline_id = :id"),
                        {"me": ctx.leases.owner, "id": pid})
    stalled = EngineContext(ctx.settings, ctx.box, ctx.session_factory, JobLeases("dead-host:1:x", 15))
    assert stalled.finish(uuid.UUID(pid), lambda p: setattr(p, "status", "RUNNING")) is False
    assert pipeline_row(app, pid)["status"] == "STARTING"
    assert ctx.finish(uuid.UUID(pid), lambda p: setattr(p, "status", "STOPPED")) is True
    assert pipeline_row(app, pid)["owner"] is None


# ---------------------------------------------------------------------------- progress without statistics


def test_row_estimates_without_statistics_are_counted_in_the_snapshot(stack_env):
    schema = f"est_{uuid.uuid4().hex[:8]}"
    with connect(dsn_for(stack_env["PG_SUPERUSER_DSN"], "demo_source")) as db:
        db.execute(f"CREATE SCHEMA {schema}")
        db.execute(f"CREATE TABLE {schema}.t (id int PRIMARY KEY, v text) WITH (autovacuum_enabled = false)")
        db.execute(f"INSERT INTO {schema}.t SELECT g, md5(g::text) FROM generate_series(1, 4321) g")
        try:
            assert db.execute(f"SELECT reltuples FROM pg_class WHERE oid = '{schema}.t'::regclass").fetchone()[0] < 0
            definition = read_table(db, schema, "t")
            snapshot_conn = psycopg.connect(dsn_for(stack_env["PG_SUPERUSER_DSN"], "demo_source"))
            snapshot_conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            snapshot = snapshot_conn.execute("SELECT pg_export_snapshot()").fetchone()[0]
            db.execute(f"INSERT INTO {schema}.t VALUES (100000, 'after the snapshot')")
            endpoint = DatabaseEndpoint("postgresql", stack_env["PG_HOST"], int(stack_env["PG_PORT"]), "demo_source",
                                        "postgres", superuser_password(stack_env))
            with open_snapshot_reader(endpoint, snapshot, 5) as reader:
                assert estimate_rows(reader, definition) == 4321  # exactly what the load will copy
            snapshot_conn.close()
            db.execute(f"ANALYZE {schema}.t")
            with connect(dsn_for(stack_env["PG_SUPERUSER_DSN"], "demo_source")) as fresh:
                assert estimate_rows(fresh, definition) == pytest.approx(4322, rel=0.05)
        finally:
            db.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.mark.parametrize(("state", "copied", "estimated", "expected"), [
    ("COPYING", 500, None, None),        # no estimate: unknown, not 99.9
    ("COPYING", 500, 0, None),           # an estimate of 0 proven wrong: unknown
    ("COPYING", 500, 1000, 50.0),
    ("COPYING", 1500, 1000, 99.9),       # an estimate exceeded: nearly done, never 100 before the end
    ("PENDING", 0, None, 0.0),
    ("COMPLETED", 1500, None, 100.0),
])
def test_table_percent(state, copied, estimated, expected):
    assert table_percent(state, copied, estimated) == expected


# ---------------------------------------------------------------------------- a stop pressed during a start


@pytest.mark.parametrize("asked_from", ["this process", "another process"])
def test_a_start_about_to_succeed_does_not_overtake_the_stop_that_cancelled_it(app, lapsed, asked_from):
    make, watchdog, _ = lapsed
    ctx = watchdog.ctx
    pid = make("STARTING", "COMPLETED", "0 seconds")
    with session_scope(app.state.session_factory) as session:
        session.execute(text("UPDATE pipeline_jobs SET owner = :me WHERE pipeline_id = :id"),
                        {"me": ctx.leases.owner, "id": pid})
    cancel = threading.Event()
    if asked_from == "this process":
        cancel.set()
    else:  # the stop route of another API process: the lease's flag, committed under the pipeline's row lock
        with session_scope(app.state.session_factory) as session:
            ctx.leases.request_cancel(session, uuid.UUID(pid))
    with pytest.raises(Cancelled):
        ctx.finish(uuid.UUID(pid), lambda p: fire(p, "started"), cancel=cancel)
    row = pipeline_row(app, pid)
    assert row["status"] == "STARTING" and row["owner"] == ctx.leases.owner, row


def test_stop_while_the_connectors_start_ends_stopped_with_nothing_left(users, stack_env):
    schema = f"cxl_{uuid.uuid4().hex[:8]}"
    source = connect(dsn_for(stack_env["PG_SUPERUSER_DSN"], "demo_source"))
    source.execute(f"CREATE SCHEMA {schema}")
    source.execute(f"CREATE TABLE {schema}.t (id int PRIMARY KEY, note text)")
    server = Server(users)
    pid = None
    try:
        src = server.call("POST", "/connections", 201, json=connection_body(stack_env))["id"]
        tgt = server.call("POST", "/connections", 201,
                          json=connection_body(stack_env, "target", "demo_target"))["id"]
        pid = server.call("POST", "/pipelines", 201, json={
            "name": f"cxl-{uuid.uuid4().hex[:8]}", "mode": "cdc_only", "source_connection_id": src,
            "target_connection_id": tgt, "tables": [f"{schema}.t"]})["id"]
        server.call("POST", f"/pipelines/{pid}/start", 202)
        # The window this test is about: the load is done and the connectors are being created and waited on.
        wait_until(lambda: (p := server.call("GET", f"/pipelines/{pid}"))["cdc_status"] == "STARTING"
                   or p["status"] != "STARTING", 120, interval=0.05, what="the connectors starting")
        stopped = server.call("POST", f"/pipelines/{pid}/stop", 202)
        final = wait_until(lambda: p if (p := server.call("GET", f"/pipelines/{pid}"))["status"] in
                           ("STOPPED", "RUNNING", "ERROR") else None, 120, what="the start job's end")
        assert final["status"] == "STOPPED", final
        if stopped["status"] == "STARTING":  # the stop cancelled the start: what the attempt created is undone
            assert not slot_exists(source, pid)
            names = ResourceNames(uuid.UUID(pid))
            with connect_client() as client:
                connectors = client.connectors()
            assert names.source_connector not in connectors and names.sink_connector not in connectors
    finally:
        if pid is not None:
            server.http.delete(f"/pipelines/{pid}", params={"force": "true"})
        source.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        source.close()
