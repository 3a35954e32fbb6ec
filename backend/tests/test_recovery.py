"""Recovery on the real stack, under concurrent writes: restart failed tasks, resync one table while the other
streams, add a table to a running pipeline, reset. One pipeline for the module (the tests run in order)."""

import uuid
from datetime import UTC, datetime

import psycopg
import pytest

from tests.engine_support import E2E
from tests.recovery_support import Writer, create_table, wait_same
from tests.support import dsn_for, wait_until

pytestmark = pytest.mark.timeout(300)


class Env:
    def __init__(self, client, headers, stack_env) -> None:
        self.e2e = E2E(client, headers, stack_env, 0)
        self.client, self.headers, self.env = client, headers, stack_env
        self.source, self.target, self.schema = self.e2e.source, self.e2e.target, self.e2e.schema
        self.a, self.b, self.c = (f"{self.schema}.{t}" for t in ("ta", "tb", "tc"))
        self.source_dsn = dsn_for(stack_env["PG_SUPERUSER_DSN"], "demo_source")

    def api(self, method: str, path: str, expect: int = 200, **kwargs) -> dict:
        response = self.client.request(method, f"/api/v1/pipelines/{self.pid}{path}", headers=self.headers, **kwargs)
        assert response.status_code == expect, response.text
        return response.json()

    def status(self) -> dict:
        return self.api("GET", "/status")

    def wait_status(self, wanted: str, timeout: float = 90) -> dict:
        return wait_until(lambda: (s := self.status())["status"] == wanted and s, timeout, what=f"status {wanted}")

    def table(self, name: str) -> dict:
        return next(t for t in self.api("GET", "")["tables"] if t["table"] == name)

    def events_since(self, table: str, since: datetime) -> int:
        with psycopg.connect(self.env["DATABASE_URL"]) as conn:
            return conn.execute("SELECT count(*) FROM pipeline_runs WHERE pipeline_id = %s AND run_type = 'CDC' "
                                "AND table_name = %s AND started_at >= %s", (self.pid, table, since)).fetchone()[0]


@pytest.fixture(scope="module")
def env(client, auth, stack_env):
    env = Env(client, auth["operator"], stack_env)
    create_table(env.source, env.a, 3000)
    create_table(env.source, env.b, 500)
    create_table(env.source, env.c, 1500)
    response = client.post("/api/v1/pipelines", headers=env.headers, json={
        "name": f"recovery-{uuid.uuid4().hex[:8]}", "mode": "full_load_and_cdc",
        "source_connection_id": env.e2e.source_id, "target_connection_id": env.e2e.target_id,
        "tables": [env.a, env.b]})
    assert response.status_code == 201, response.text
    env.pid = response.json()["id"]
    env.api("POST", "/start", expect=202)
    env.wait_status("RUNNING", 180)
    yield env
    env.e2e.close([env.pid])


def test_failed_sink_task_restarts_once_the_cause_is_removed(env):
    env.target.execute(f"ALTER TABLE {env.b} ADD CONSTRAINT small_qty CHECK (qty < 100000)")
    writer = Writer(env.source_dsn, [env.a, env.b])
    writer.start()
    try:
        env.source.execute(f"UPDATE {env.b} SET qty = 500000 WHERE id = 7")
        status = env.wait_status("ERROR", 90)
        assert "small_qty" in status["last_error"]
        assert status["available_actions"][0] == "restart_failed"
        sink_tasks = status["connect"]["sink"]["tasks"]
        assert sink_tasks[0]["state"] == "FAILED" and "small_qty" in sink_tasks[0]["trace"]
        failed_at = writer.ops[env.a]
        wait_until(lambda: writer.ops[env.a] > failed_at + 100, 60, what="writes while the sink is down")
        env.target.execute(f"ALTER TABLE {env.b} DROP CONSTRAINT small_qty")
        restarted = env.api("POST", "/restart", params={"failed_only": "true"})
        assert restarted["status"] == "RUNNING" and restarted["last_error"] is None
        wait_until(lambda: writer.ops[env.a] > failed_at + 200, 60, what="writes after the restart")
    finally:
        writer.finish()
    wait_same(env.source, env.target, env.a)
    wait_same(env.source, env.target, env.b)
    assert env.status()["status"] == "RUNNING"


def test_resync_of_one_table_under_writes_while_the_other_streams(env):
    # The target copy of ta goes wrong (rows lost, rows changed): the resync must repair it exactly.
    env.target.execute(f"DELETE FROM {env.a} WHERE id % 3 = 0")
    env.target.execute(f"UPDATE {env.a} SET note = 'wrong' WHERE id % 3 = 1")
    writer = Writer(env.source_dsn, [env.a, env.b], first_id=200_000)
    writer.start()
    try:
        started = datetime.now(UTC)
        pipeline = env.api("POST", f"/tables/{env.a}/resync", expect=202)
        assert next(t for t in pipeline["tables"] if t["table"] == "ta")["state"] == "RESYNCING"
        env.api("POST", f"/tables/{env.a}/resync", expect=409)   # one at a time
        wait_until(lambda: env.table("ta")["resync_state"] == "COMPLETED", 180, what="resync completed")
        assert env.table("ta")["state"] == "COMPLETED" and env.table("ta")["rows_copied"] >= 3000
        # The other table never stopped: its change events kept arriving while ta was reloaded.
        assert env.events_since(env.b, started) > 10, "tb's stream stopped during the resync"
        assert env.status()["status"] == "RUNNING"
        wait_until(lambda: writer.ops[env.a] > 100, 30, what="writes after the resync")
    finally:
        writer.finish()
    wait_same(env.source, env.target, env.a)
    wait_same(env.source, env.target, env.b)


def test_table_added_to_a_running_pipeline_is_loaded_then_streams(env):
    writer = Writer(env.source_dsn, [env.b, env.c], first_id=300_000)
    writer.start()
    try:
        pipeline = env.api("POST", "/tables", expect=202, json={"table": env.c})
        assert [t["table"] for t in pipeline["tables"]] == ["ta", "tb", "tc"]
        env.api("POST", "/tables", expect=409, json={"table": env.c})
        # The load is an incremental snapshot after both connectors' tasks restart with the new table: on a busy
        # 2-core machine the restarts alone have taken minutes.
        wait_until(lambda: env.table("tc")["resync_state"] == "COMPLETED", 360, what="tc loaded")
        loaded_at = writer.ops[env.c]
        wait_until(lambda: writer.ops[env.c] > loaded_at + 50, 30, what="writes to tc after its load")
    finally:
        writer.finish()
    wait_same(env.source, env.target, env.c)
    wait_same(env.source, env.target, env.b)
    assert env.status()["status"] == "RUNNING"
    assert env.api("GET", "")["kafka_topics"][-1].endswith(".tc")


def test_reset_needs_confirmation_then_starts_from_a_fresh_full_load(env):
    name = env.api("GET", "")["name"]
    refused = env.client.post(f"/api/v1/pipelines/{env.pid}/reset", headers=env.headers, json={"confirm": "nope"})
    assert refused.status_code == 422 and refused.json()["error"]["details"]["field"] == "confirm"
    env.target.execute(f"DELETE FROM {env.b} WHERE id % 2 = 0")      # the target drifted: reset repairs it
    env.source.execute(f"UPDATE {env.a} SET note = 'before reset' WHERE id < 50")
    reset = env.api("POST", "/reset", expect=202, json={"confirm": name})
    assert reset["status"] == "STARTING"
    status = env.wait_status("RUNNING", 240)
    assert status["full_load_status"] == "COMPLETED"
    env.source.execute(f"UPDATE {env.a} SET note = 'after reset' WHERE id < 20")
    env.source.execute(f"INSERT INTO {env.c} (id, qty, note) VALUES (900000, 1, 'after reset')")
    for table in (env.a, env.b, env.c):
        wait_same(env.source, env.target, table)
    with psycopg.connect(env.env["DATABASE_URL"]) as conn:
        loads = conn.execute("SELECT count(*) FROM pipeline_runs WHERE pipeline_id = %s AND run_type = 'FULL_LOAD'",
                             (env.pid,)).fetchone()[0]
    assert loads == 2
