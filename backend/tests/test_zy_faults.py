"""Faults under a writer, against this run's own stack and the API server make test started (it runs the event
logger): kill -9 the broker, kill -9 the Connect worker, terminate Debezium's walsender, lock the target table,
hold WAL with a stopped pipeline, lose a slot. After each: /status left "ok" within the time the issue asks, came
back to "ok", the target equals the source, and the event log holds every change exactly once.

Named to run late (after the other e2e tests, before test_zz_logs.py): a fault that does not heal would break
whatever runs after it.
"""

import os
import random
import signal
import subprocess
import threading
import time
from datetime import datetime
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.engine_support import E2E
from tests.support import dsn_for, table_fingerprint, wait_until

pytestmark = pytest.mark.timeout(600)
API = os.environ["CDCFLOW_API_URL"]
REPO = Path(__file__).resolve().parents[2]
RUN_DIR = Path(os.environ["CDCFLOW_STACK_DIR"]) / "run"
MIB = 1024 ** 2


class RowWriter(threading.Thread):
    """Single-row inserts, updates and deletes on one table at ~150 changes/s, in a fixed pseudo-random mix,
    counting what really changed (each statement touches exactly one existing row)."""

    def __init__(self, dsn: str, table: str, ids: list[int], next_id: int, seed: int) -> None:
        super().__init__(daemon=True)
        self.dsn, self.table, self.ids, self.next_id = dsn, table, ids, next_id
        self.rng = random.Random(seed)
        self.done = {"insert": 0, "update": 0, "delete": 0}
        self.stop_event = threading.Event()
        self.error: Exception | None = None

    def run(self) -> None:
        try:
            with psycopg.connect(self.dsn, autocommit=True) as conn:
                while not self.stop_event.is_set():
                    started = time.monotonic()
                    roll = self.rng.random()
                    if roll < 0.4 or len(self.ids) < 50:
                        conn.execute(f"INSERT INTO {self.table} VALUES (%s, %s, true, date '2001-01-01', 0)",
                                     (self.next_id, f"w{self.next_id}@x.io"))
                        self.ids.append(self.next_id)
                        self.next_id, op = self.next_id + 1, "insert"
                    elif roll < 0.8:
                        row = self.ids[self.rng.randrange(len(self.ids))]
                        assert conn.execute(f"UPDATE {self.table} SET balance = balance + 1, active = NOT active "
                                            f"WHERE id = %s", (row,)).rowcount == 1
                        op = "update"
                    else:
                        i = self.rng.randrange(len(self.ids))
                        self.ids[i], self.ids[-1] = self.ids[-1], self.ids[i]
                        assert conn.execute(f"DELETE FROM {self.table} WHERE id = %s",
                                            (self.ids.pop(),)).rowcount == 1
                        op = "delete"
                    self.done[op] += 1
                    self.stop_event.wait(max(0.0, 1 / 150 - (time.monotonic() - started)))
        except Exception as exc:  # surfaced by finish()
            self.error = exc

    def finish(self) -> dict[str, int]:
        self.stop_event.set()
        self.join(30)
        assert self.error is None, f"writer failed: {self.error!r}"
        return self.done


class Plane:
    """One CDC pipeline on one table, its writer's running totals, and the API server's view of it."""

    def __init__(self, client, auth, users, stack_env) -> None:
        self.env = E2E(client, auth["operator"], stack_env, 0)
        self.stack_env = stack_env
        self.table = f"{self.env.schema}.customers"
        self.pid = self.env.create_pipeline("cdc_only", tables=("customers",))
        token = httpx.post(f"{API}/api/v1/auth/login", json=users["operator"], timeout=30).json()["access_token"]
        self.http = httpx.Client(base_url=f"{API}/api/v1", headers={"Authorization": f"Bearer {token}"}, timeout=30)
        # The logger's process-wide counters are for admins only (an operator sees its own partitions).
        admin = httpx.post(f"{API}/api/v1/auth/login", json=users["admin"], timeout=30).json()["access_token"]
        self.admin_http = httpx.Client(base_url=f"{API}/api/v1", headers={"Authorization": f"Bearer {admin}"},
                                       timeout=30)
        self.made = {"insert": 0, "update": 0, "delete": 0}
        self.ids: list[int] = []
        self.next_id, self.round = 1, 0
        self.writer: RowWriter | None = None

    def status(self) -> dict:
        response = self.http.get(f"/pipelines/{self.pid}/status")
        assert response.status_code == 200, response.text
        return response.json()

    def start_writer(self) -> None:
        self.replays_before = self.replays_absorbed()
        self.round += 1
        self.writer = RowWriter(dsn_for(self.stack_env["PG_SUPERUSER_DSN"], "demo_source"), self.table, self.ids,
                                self.next_id, seed=self.round)
        self.writer.start()
        wait_until(lambda: sum(self.writer.done.values()) >= 150, 60, interval=0.2, what="the writer under way")

    def stop_writer(self) -> None:
        for op, n in self.writer.finish().items():
            self.made[op] += n
        self.next_id = self.writer.next_id

    def wait_health(self, wanted, timeout: float, what: str) -> tuple[dict, float]:
        started = time.monotonic()

        def check():
            status = self.status()
            return status if wanted(status) else None

        found = wait_until(check, timeout, interval=0.25, what=what)
        print(f"{what}: {time.monotonic() - started:.1f} s")  # shown with -s or on failure: the run's timings
        return found, time.monotonic() - started

    def wait_ok(self, timeout: float = 150) -> dict:
        return self.wait_health(lambda s: s["health"] == "ok" and s["status"] == "RUNNING", timeout,
                                "status back to RUNNING and health ok")[0]

    def stored(self) -> dict[str, int]:
        with psycopg.connect(self.stack_env["DATABASE_URL"]) as conn:
            rows = conn.execute("SELECT event_type, count(*) FROM pipeline_runs WHERE pipeline_id = %s AND "
                                "run_type = 'CDC' AND deleted_at IS NULL GROUP BY 1", (self.pid,)).fetchall()
        return {"insert": 0, "update": 0, "delete": 0, **dict(rows)}

    def replays_absorbed(self) -> int:
        return self.admin_http.get("/monitoring/event-logger-status").json()["duplicates_total"]

    def assert_exact(self) -> None:
        """Target equal to source, and every change stored exactly once: counts per operation equal what the
        writer did, the logger has read its topic to the end, no source identity appears twice."""
        if self.writer.is_alive():
            self.stop_writer()
        started = time.monotonic()
        expected = table_fingerprint(self.env.source, self.table)
        wait_until(lambda: table_fingerprint(self.env.target, self.table) == expected, 120, interval=1,
                   what="target equal to source (row count and ordered md5)")
        converged = time.monotonic() - started
        wait_until(lambda: self.stored() == self.made, 120, interval=1,
                   what=f"events stored equal to the changes made {self.made}")
        topic = f"cdcflow.{self.pid}.{self.table}"

        def logger_at_end():
            s = self.http.get("/monitoring/event-logger-status").json()
            mine = [p for p in s["assigned_partitions"] if p["topic"] == topic]
            return mine and all(p.get("lag") == 0 for p in mine) and s["lag_checked_at"] > read_at

        read_at, counted = time.time(), time.monotonic() - started
        wait_until(logger_at_end, 60, what="the event logger at the end of the pipeline's topic")
        assert self.stored() == self.made
        with psycopg.connect(self.stack_env["DATABASE_URL"]) as conn:
            twice = conn.execute(
                "SELECT source_lsn, table_name, event_type, run_metadata->'key', count(*) FROM pipeline_runs "
                "WHERE pipeline_id = %s AND run_type = 'CDC' GROUP BY 1, 2, 3, 4 HAVING count(*) > 1",
                (self.pid,)).fetchall()
        assert twice == []
        print(f"exact after {time.monotonic() - started:.1f} s (target {converged:.1f} s, events {counted:.1f} s): "
              f"{self.made}; copies absorbed by the logger: {self.replays_absorbed() - self.replays_before}")

    def close(self) -> None:
        if self.writer is not None and self.writer.is_alive():
            self.writer.finish()
        self.http.close()
        self.admin_http.close()
        self.env.close([self.pid])


@pytest.fixture(scope="module")
def plane(client, auth, users, stack_env):
    plane = Plane(client, auth, users, stack_env)
    plane.env.action(plane.pid, "start")
    plane.env.wait_status(plane.pid, "RUNNING")
    plane.wait_ok(60)
    yield plane
    plane.close()


def kill(name: str) -> None:
    """SIGKILL one daemon of this run's stack, by the pid file stackctl wrote for it."""
    pid = int((RUN_DIR / f"{name}.pid").read_text())
    environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    assert f"CDCFLOW_STACK_DIR={os.environ['CDCFLOW_STACK_DIR']}".encode() in environ, "not this stack's process"
    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: not Path(f"/proc/{pid}").exists() or b"zombie" in Path(f"/proc/{pid}/status").read_bytes()
               .lower(), 10, interval=0.1, what=f"{name} gone")


def stack_up() -> None:
    """Bring back what is missing. A pid file left by the killed process names a dead pid, which stackctl
    treats as stopped. Patient readiness: a broker recovering from kill -9 on a busy machine is slow to answer
    stackctl's probe (one JVM per attempt)."""
    done = subprocess.run([str(REPO / "stack" / "stackctl"), "up"], capture_output=True, text=True, timeout=330,
                          env={**os.environ, "CDCFLOW_READY_TIMEOUT": "300", "CDCFLOW_KAFKA_PROBE_TIMEOUT": "120"})
    assert done.returncode == 0, done.stderr[-2000:]


def problem(status: dict, component: str) -> dict | None:
    return next((p for p in status["problems"] if p["component"] == component), None)


def test_broker_killed_for_25_s(plane):
    plane.start_writer()
    killed = time.monotonic()
    kill("kafka")
    try:
        down, took = plane.wait_health(lambda s: s["health"] != "ok", 30, "health to leave ok")
        assert took <= 10, f"the broker outage took {took:.1f} s to show"
        assert down["health"] == "error" and problem(down, "kafka"), down["problems"]
        assert "stackctl up" in problem(down, "kafka")["action"]
        time.sleep(max(0.0, 25 - (time.monotonic() - killed)))  # the outage itself: 25 s with the writer going
        plane.stop_writer()
    finally:
        stack_up()
    plane.wait_ok()
    plane.assert_exact()


def connect_workers() -> list[str]:
    """Every Connect worker of this run's stack (stackctl names them connect, connect-1, ...)."""
    return sorted(p.stem for p in RUN_DIR.glob("connect*.pid"))


def test_connect_worker_killed(plane):
    """The whole Connect cluster goes (every worker, kill -9); one worker of several is test_zx_connect_cluster.py."""
    plane.start_writer()
    for worker in connect_workers():
        kill(worker)
    try:
        down, took = plane.wait_health(lambda s: s["health"] != "ok", 30, "health to leave ok")
        assert took <= 10, f"the Connect outage took {took:.1f} s to show"
        assert problem(down, "connect") or down["status"] == "ERROR", down
        plane.stop_writer()
    finally:
        stack_up()
    plane.wait_ok()
    plane.assert_exact()


def test_walsender_terminated(plane):
    plane.start_writer()
    slot = f"cdcflow_{plane.pid.replace('-', '')}"
    active_pid = plane.env.source.execute("SELECT active_pid FROM pg_replication_slots WHERE slot_name = %s",
                                          (slot,)).fetchone()[0]
    assert active_pid, "Debezium's walsender is not connected"
    assert plane.env.source.execute("SELECT pg_terminate_backend(%s)", (active_pid,)).fetchone()[0]
    down, took = plane.wait_health(lambda s: s["health"] != "ok", 30, "health to leave ok")
    assert took <= 10, f"the inactive slot took {took:.1f} s to show"
    assert problem(down, "source")["code"] == "slot_inactive", down["problems"]
    plane.stop_writer()
    plane.wait_ok()
    plane.assert_exact()


def test_sink_blocked_by_a_locked_target_table(plane):
    plane.start_writer()
    with psycopg.connect(dsn_for(plane.stack_env["PG_SUPERUSER_DSN"], "demo_target")) as locker:
        locker.execute(f"LOCK TABLE {plane.table} IN ACCESS EXCLUSIVE MODE")
        try:
            down, took = plane.wait_health(lambda s: problem(s, "sink") is not None, 45, "the sink named")
        finally:
            locker.rollback()
    plane.stop_writer()
    assert took <= 30, f"the blocked sink took {took:.1f} s to show"
    assert down["health"] == "degraded" and problem(down, "sink")["code"] == "sink_stalled"
    assert "pg_stat_activity" in problem(down, "sink")["action"]
    plane.wait_ok()
    plane.assert_exact()


def test_a_stopped_pipeline_holding_wal_is_degraded_and_says_so(plane):
    plane.env.action(plane.pid, "stop")
    plane.env.wait_status(plane.pid, "STOPPED", 90)
    changed = plane.http.put(f"/pipelines/{plane.pid}", json={"wal_warning_bytes": 4 * MIB,
                                                                "wal_critical_bytes": 4 * MIB})
    assert changed.status_code == 422 and changed.json()["error"]["code"] == "validation_error"
    changed = plane.http.put(f"/pipelines/{plane.pid}", json={"wal_warning_bytes": 4 * MIB})
    assert changed.status_code == 200 and changed.json()["wal_warning_bytes"] == 4 * MIB
    # WAL written elsewhere in the cluster: the stopped pipeline's slot keeps all of it.
    with psycopg.connect(dsn_for(plane.stack_env["PG_SUPERUSER_DSN"], "demo_target"), autocommit=True) as db:
        db.execute("CREATE TABLE public.wal_filler AS SELECT g, repeat('x', 200) AS pad "
                   "FROM generate_series(1, 40000) g")
        db.execute("DROP TABLE public.wal_filler")
    status, _ = plane.wait_health(lambda s: s["health"] != "ok", 30, "health to leave ok")
    assert status["status"] == "STOPPED" and status["health"] == "degraded"
    (held,) = status["problems"]
    assert (held["component"], held["code"]) == ("slot", "wal_warning") and "STOPPED" in held["message"]
    assert status["wal"]["retained_bytes"] > 4 * MIB and status["wal"]["warning_bytes"] == 4 * MIB
    assert status["wal"]["wal_status"] in ("reserved", "extended")

    def listed():  # the list shows the monitor's latest pass: at most one interval behind /status
        items = plane.http.get("/pipelines", params={"limit": 200}).json()["items"]
        mine = next(p for p in items if p["id"] == plane.pid)
        return mine if mine["health"] == "degraded" else None

    mine = wait_until(listed, 15, interval=0.5, what="the pipelines list showing the WAL held")
    assert mine["retained_wal_bytes"] > 4 * MIB
    name = plane.http.get(f"/pipelines/{plane.pid}").json()["name"]
    metrics = httpx.get(f"{API}/metrics", timeout=30,
                        headers={"Authorization": f"Bearer {os.environ['CDCFLOW_METRICS_TOKEN']}"}).text
    assert f'cdcflow_slot_retained_wal_bytes{{pipeline="{name}"}}' in metrics
    assert f'cdcflow_pipeline_health{{pipeline="{name}"}} 1' in metrics


def test_a_lost_slot_puts_the_pipeline_in_error_with_reset_offered(plane, stack_env):
    """max_slot_wal_keep_size, the database's safety net, drops the stopped pipeline's WAL: streaming cannot resume,
    so the pipeline goes to ERROR (through the state machine) and the reset action is offered."""
    assert plane.status()["status"] == "STOPPED"
    slot = f"cdcflow_{plane.pid.replace('-', '')}"
    with psycopg.connect(stack_env["PG_SUPERUSER_DSN"], autocommit=True) as db:
        try:
            db.execute("ALTER SYSTEM SET max_slot_wal_keep_size = '1MB'")
            db.execute("SELECT pg_reload_conf()")
            with psycopg.connect(dsn_for(stack_env["PG_SUPERUSER_DSN"], "demo_target"), autocommit=True) as target:
                target.execute("CREATE TABLE public.wal_filler AS SELECT g, repeat('x', 300) AS pad "
                               "FROM generate_series(1, 150000) g")  # ~50 MB of WAL: a few segments
                target.execute("DROP TABLE public.wal_filler")
            db.execute("SELECT pg_switch_wal()")
            db.execute("CHECKPOINT")  # removes the segments the slot still needed
            assert db.execute("SELECT wal_status FROM pg_replication_slots WHERE slot_name = %s",
                              (slot,)).fetchone()[0] == "lost"
        finally:
            db.execute("ALTER SYSTEM RESET max_slot_wal_keep_size")
            db.execute("SELECT pg_reload_conf()")
    # ERROR is written by whichever process's monitor sees the loss first; this API's own observation of the slot
    # follows within one pass.
    status, took = plane.wait_health(lambda s: s["status"] == "ERROR" and (s["wal"] or {}).get("wal_status") == "lost",
                                     30, "the pipeline in ERROR")
    assert took <= 10, f"the lost slot took {took:.1f} s to show"
    assert status["last_error"] == "the source dropped the slot's WAL: resync needed"
    assert status["health"] == "error" and status["wal"]["wal_status"] == "lost"
    by_code = {p["code"]: p for p in status["problems"]}
    assert by_code["slot_lost"]["actions"] == ["reset"] and by_code["pipeline_error"]["actions"] == ["reset"]
    # It stays in ERROR: nothing that looks healthy elsewhere brings it back. Watched on the monitor's own clock
    # until its observations are more than a reconciler pass (5 s) newer than the ERROR, every answer still ERROR.
    first = datetime.fromisoformat(status["observed_at"])

    def judged_again() -> bool:
        now = plane.status()
        assert now["status"] == "ERROR", now
        return (datetime.fromisoformat(now["observed_at"]) - first).total_seconds() > 6

    wait_until(judged_again, 60, interval=0.5, what="fresh observations past a reconciler pass, still ERROR")
