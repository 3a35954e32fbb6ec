"""Schema changes on a running FULL_LOAD_AND_CDC pipeline, on the real stack, under a concurrent writer: every policy,
TRUNCATE, a renamed table. One pipeline for the whole module (the tests run in order and share it)."""

import os
import uuid

import httpx
import pytest
import socketio

from tests.engine_support import E2E
from tests.recovery_support import StatusSampler, Writer, columns, create_table, fingerprint, wait_same
from tests.support import dsn_for, wait_until

pytestmark = pytest.mark.timeout(300)
API = os.environ["CDCFLOW_API_URL"]


class Env:
    def __init__(self, client, headers, stack_env) -> None:
        self.e2e = E2E(client, headers, stack_env, 0)
        self.client, self.headers, self.env = client, headers, stack_env
        self.source, self.target, self.schema = self.e2e.source, self.e2e.target, self.e2e.schema
        self.evo, self.side = f"{self.schema}.evo", f"{self.schema}.side"
        self.source_dsn = dsn_for(stack_env["PG_SUPERUSER_DSN"], "demo_source")

    def api(self, method: str, path: str, expect: int = 200, **kwargs) -> dict:
        response = self.client.request(method, f"/api/v1/pipelines/{self.pid}{path}", headers=self.headers, **kwargs)
        assert response.status_code == expect, response.text
        return response.json()

    def status(self) -> dict:
        return self.api("GET", "/status")

    def wait_status(self, wanted: str, timeout: float = 90) -> dict:
        return wait_until(lambda: (s := self.status())["status"] == wanted and s, timeout, what=f"status {wanted}")

    def changes(self) -> list[dict]:
        return self.api("GET", "/schema-changes", params={"limit": 100})["items"]


@pytest.fixture(scope="module")
def env(client, auth, stack_env, grant):
    env = Env(client, auth["operator"], stack_env)
    create_table(env.source, env.evo, 2000)
    create_table(env.source, env.side, 300)
    response = client.post("/api/v1/pipelines", headers=env.headers, json={
        "name": f"evo-{uuid.uuid4().hex[:8]}", "mode": "full_load_and_cdc", "schema_change_policy": "propagate",
        "source_connection_id": env.e2e.source_id, "target_connection_id": env.e2e.target_id,
        "tables": [env.evo, env.side]})
    assert response.status_code == 201, response.text
    env.pid = response.json()["id"]
    grant("pipelines", env.pid, "viewer", "view")  # the viewer below watches the operator's pipeline live
    env.api("POST", "/start", expect=202)
    env.wait_status("RUNNING", 180)
    yield env
    env.e2e.close([env.pid])


@pytest.fixture(scope="module")
def viewer_token(users) -> str:
    response = httpx.post(f"{API}/api/v1/auth/login", json=users["viewer"], timeout=60)  # bcrypt on a busy box
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def test_propagate_keeps_streaming_through_add_drop_and_widen(env, viewer_token):
    pushed: list[dict] = []
    sio = socketio.Client(reconnection=False)
    sio.on("schema_change", pushed.append)
    sio.connect(API, auth={"token": viewer_token}, transports=["websocket"], wait_timeout=10)
    assert sio.call("subscribe_pipeline", {"pipeline_id": env.pid}, timeout=10)["ok"]
    sampler = StatusSampler(env.env["DATABASE_URL"], env.pid)
    writer = Writer(env.source_dsn, [env.evo, env.side])
    sampler.start()
    writer.start()
    try:
        wait_until(lambda: writer.ops[env.evo] > 30, 30, what="writes before the DDL")
        env.source.execute(f"ALTER TABLE {env.evo} ADD COLUMN w integer")
        env.source.execute(f"UPDATE {env.evo} SET w = id * 2 WHERE id % 10 = 0")
        env.source.execute(f"ALTER TABLE {env.evo} ADD COLUMN flag text NOT NULL DEFAULT 'new'")
        env.source.execute(f"UPDATE {env.evo} SET flag = 'changed' WHERE id % 7 = 0")
        env.source.execute(f"ALTER TABLE {env.evo} DROP COLUMN legacy")
        after_drop = writer.next_id[env.evo] + 1
        env.source.execute(f"ALTER TABLE {env.evo} ALTER COLUMN qty TYPE bigint")
        env.source.execute(f"INSERT INTO {env.evo} (id, qty, note, w) VALUES (1, 5000000000, 'big', 1) "
                           f"ON CONFLICT (id) DO UPDATE SET qty = 5000000000, note = 'big'")
        wait_until(lambda: writer.ops[env.evo] > 300, 60, what="writes after the DDL")
    finally:
        ops = writer.finish()
    expected = wait_same(env.source, env.target, env.evo)
    wait_same(env.source, env.target, env.side)
    seen = sampler.finish()
    assert ops[env.evo] > 300 and expected[0] > 2000
    assert [s for s, _ in seen] == ["RUNNING"], f"the pipeline left RUNNING: {seen}"

    target_columns = columns(env.target, env.evo)
    assert target_columns["qty"][0] == "bigint"
    assert target_columns["w"][:2] == ("integer", True)
    assert target_columns["flag"][:2] == ("text", False) and "new" in target_columns["flag"][2]
    assert target_columns["legacy"][1] is True                      # kept, nullable, no more values
    assert env.target.execute(f"SELECT qty, flag FROM {env.evo} WHERE id = 1").fetchone() == (5000000000, "new")
    assert env.target.execute(f"SELECT count(*) FROM {env.evo} WHERE flag = 'changed'").fetchone()[0] > 0
    after = env.target.execute(f"SELECT count(*), count(legacy) FROM {env.evo} WHERE id >= %s", (after_drop,)
                               ).fetchone()
    assert after[0] > 0 and after[1] == 0                        # rows written after the drop get no value

    recorded = {(c["kind"], c["column"]) for item in env.changes() for c in item["changes"]
                if item["table_name"] == env.evo}
    assert {("add_column", "w"), ("add_column", "flag"), ("drop_column", "legacy"),
            ("type_change", "qty")} <= recorded
    item = next(i for i in env.changes() if any(c["column"] == "flag" for c in i["changes"]))
    assert item["outcome"] == "APPLIED" and any("ADD COLUMN" in ddl for ddl in item["applied"])
    assert {"name": "flag", "type": "text", "nullable": False, "default": "'new'::text"} in item["after"]
    wait_until(lambda: {c["column"] for p in pushed for c in p["changes"]} >= {"w", "flag", "legacy", "qty"}, 30,
               what="schema_change events over Socket.IO")
    sio.disconnect()


def test_pause_policy_pauses_until_resume_and_loses_nothing(env):
    env.api("PUT", "/schema-policy", json={"schema_change_policy": "pause"})
    writer = Writer(env.source_dsn, [env.evo, env.side], first_id=200_000)
    writer.start()
    try:
        env.source.execute(f"ALTER TABLE {env.evo} ADD COLUMN p integer DEFAULT 5")
        status = env.wait_status("PAUSED", 60)
        pending = status["schema_pending"]
        assert [(c["table"], c["kind"], c["column"]) for c in pending] == [(env.evo, "add_column", "p")]
        assert "ADD COLUMN" in pending[0]["ddl"][0] and "review" in status["last_error"]
        assert "resume" in status["available_actions"] and "review_schema" in status["available_actions"]
        paused_at = writer.ops[env.evo]
        wait_until(lambda: writer.ops[env.evo] > paused_at + 100, 60, what="writes while paused")
        assert "p" not in columns(env.target, env.evo)
        env.api("POST", "/resume")
        env.wait_status("RUNNING", 60)
        wait_until(lambda: writer.ops[env.evo] > paused_at + 200, 60, what="writes after resume")
    finally:
        writer.finish()
    wait_same(env.source, env.target, env.evo)
    wait_same(env.source, env.target, env.side)
    assert columns(env.target, env.evo)["p"][0] == "integer"
    assert env.status()["schema_pending"] == []


def test_ignore_policy_keeps_the_target_columns(env):
    env.api("PUT", "/schema-policy", json={"schema_change_policy": "ignore"})
    env.source.execute(f"ALTER TABLE {env.evo} ADD COLUMN secret text")
    env.source.execute(f"UPDATE {env.evo} SET secret = 'x' || id, qty = qty + 1 WHERE id % 5 = 0")
    env.source.execute(f"INSERT INTO {env.evo} (id, qty, note, secret) VALUES (300000, 1, 'after', 's')")
    shared = [c for c in columns(env.source, env.evo) if c != "secret"]
    wait_same(env.source, env.target, env.evo, cols=shared)
    assert "secret" not in columns(env.target, env.evo)
    assert env.status()["status"] == "RUNNING"
    table = next(t for t in env.api("GET", "")["tables"] if t["table"] == "evo")
    assert table["ignored_columns"] == ["secret"]
    # Back to propagate: the column is added, and the table resynced for the values it never received.
    env.api("PUT", "/schema-policy", json={"schema_change_policy": "propagate"})
    wait_until(lambda: (t := next(t for t in env.api("GET", "")["tables"] if t["table"] == "evo"))["resync_state"]
               == "COMPLETED" and t["ignored_columns"] == [], 120, what="evo resynced with its new column")
    wait_same(env.source, env.target, env.evo)
    assert env.target.execute(f"SELECT secret FROM {env.evo} WHERE id = 300000").fetchone() == ("s",)


def test_truncate_on_the_source_empties_the_target(env):
    env.source.execute(f"TRUNCATE {env.side}")
    env.source.execute(f"INSERT INTO {env.side} (id, qty, note) SELECT g, g, 't' FROM generate_series(1, 20) g")
    assert wait_same(env.source, env.target, env.side)[0] == 20


def test_drop_setting_drops_the_column_once_the_sink_is_past_the_ddl(env):
    env.api("PUT", "/schema-policy", json={"schema_change_policy": "propagate", "drop_removed_columns": True})
    env.source.execute(f"UPDATE {env.evo} SET w = -1 WHERE id < 100")   # in flight when the column goes
    env.source.execute(f"ALTER TABLE {env.evo} DROP COLUMN w")
    env.source.execute(f"UPDATE {env.evo} SET qty = qty + 1 WHERE id < 100")
    wait_until(lambda: "w" not in columns(env.target, env.evo), 90, what="column w dropped on the target")
    wait_same(env.source, env.target, env.evo)
    assert env.status()["status"] == "RUNNING"
    assert any(c["kind"] == "drop_column" and c["column"] == "w" and "DROP COLUMN" in " ".join(c["ddl"])
               for item in env.changes() for c in item["changes"])


def test_renamed_table_pauses_and_removing_it_lets_the_pipeline_resume(env):
    env.source.execute(f"ALTER TABLE {env.side} RENAME TO side_renamed")
    status = env.wait_status("PAUSED", 60)
    assert f"renamed to {env.schema}.side_renamed" in status["last_error"]
    env.api("DELETE", f"/tables/{env.side}")
    env.api("POST", "/resume")
    env.wait_status("RUNNING", 60)
    assert [t["table"] for t in env.api("GET", "")["tables"]] == ["evo"]
    env.source.execute(f"INSERT INTO {env.evo} (id, qty, note) VALUES (400000, 4, 'still streaming')")
    wait_same(env.source, env.target, env.evo)
    assert fingerprint(env.target, env.side, ["id"])[0] == 20   # its target table is kept
