"""Pipeline engine end to end on the real stack: every mode, concurrent writes, stop/start, pause/resume, TOAST,
a killed Connect worker. Target equals source by row count and ordered row hash."""

import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.engine_support import E2E, Writer, fingerprints, seed
from tests.support import connect_auth, dsn_for, wait_until
from tests.test_connections import connection_body

pytestmark = pytest.mark.timeout(600)


@pytest.fixture
def e2e(client, auth, stack_env, request):
    rows = getattr(request, "param", 2000)
    env = E2E(client, auth["operator"], stack_env, rows)
    env.pipelines = []
    yield env
    env.close(env.pipelines)


def no_leftovers(env: E2E, pipeline_id: str) -> None:
    hexid = pipeline_id.replace("-", "")
    slots = env.source.execute("SELECT count(*) FROM pg_replication_slots WHERE slot_name = %s",
                               (f"cdcflow_{hexid}",)).fetchone()[0]
    pubs = env.source.execute("SELECT count(*) FROM pg_publication WHERE pubname = %s",
                              (f"cdcflow_{hexid}",)).fetchone()[0]
    connectors = httpx.get(f"{env.env['KAFKA_CONNECT_URL']}/connectors", auth=connect_auth(), timeout=10).json()
    assert slots == 0 and pubs == 0
    assert not [c for c in connectors if pipeline_id in c]


def test_full_load_only_copies_every_table_exactly(e2e):
    pid = e2e.create_pipeline("full_load_only")
    e2e.pipelines.append(pid)
    e2e.action(pid, "start")
    status = e2e.wait_status(pid, "STOPPED", 120)
    assert status["full_load_status"] == "COMPLETED"
    expected = e2e.wait_converged(5)
    assert expected["items"][0] == 2000 and expected["order_lines"][0] == 4000

    progress = e2e.client.get(f"/api/v1/pipelines/{pid}/progress", headers=e2e.headers).json()
    assert progress["percent"] == 100.0 and all(t["state"] == "COMPLETED" for t in progress["tables"])
    assert {t["table"]: t["rows_copied"] for t in progress["tables"]} == {"items": 2000, "customers": 2000,
                                                                          "order_lines": 4000}
    assert progress["last_run"]["snapshot_lsn"] and progress["last_run"]["rows"] == 8000
    # Target tables carry the source's keys and types.
    pk = e2e.target.execute("SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid "
                            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND i.indisprimary",
                            (e2e.schema,)).fetchone()[0]
    assert pk == 3
    no_leftovers(e2e, pid)  # full load only: no slot, no publication, no connectors


def test_cdc_only_streams_inserts_updates_and_deletes(e2e):
    e2e.source.execute(f"TRUNCATE {e2e.schema}.items, {e2e.schema}.customers, {e2e.schema}.order_lines")
    pid = e2e.create_pipeline("cdc_only")
    e2e.pipelines.append(pid)
    e2e.action(pid, "start")
    e2e.wait_status(pid, "RUNNING")
    status = e2e.wait_healthy(pid)
    assert status["connect"]["source"]["tasks"][0]["state"] == "RUNNING"
    seed(e2e.source, e2e.schema, 1, 300)
    e2e.source.execute(f"UPDATE {e2e.schema}.items SET name = name || '!' WHERE id % 3 = 0")
    e2e.source.execute(f"DELETE FROM {e2e.schema}.customers WHERE id > 250")
    expected = e2e.wait_converged()
    assert expected["customers"][0] == 250


def test_full_load_and_cdc_under_concurrent_writes_is_exact(e2e, stack_env):
    seed(e2e.source, e2e.schema, 2001, 30000)  # enough rows that the load overlaps the writer
    writer = Writer(dsn_for(stack_env["PG_SUPERUSER_DSN"], "demo_source"), e2e.schema, 30001, 30000)
    writer.start()
    pid = e2e.create_pipeline("full_load_and_cdc")
    e2e.pipelines.append(pid)
    e2e.action(pid, "start")
    e2e.wait_status(pid, "RUNNING")
    time.sleep(3)
    ops = writer.finish()
    assert ops["insert"] > 20 and ops["update"] > 20 and ops["delete"] > 20
    e2e.wait_converged()

    # Connector configs never carry a password in clear text.
    for name in (f"cdcflow-{pid}-source", f"cdcflow-{pid}-sink"):
        config = httpx.get(f"{stack_env['KAFKA_CONNECT_URL']}/connectors/{name}/config", auth=connect_auth(),
                           timeout=10).json()
        secret = config.get("database.password") or config.get("connection.password")
        assert secret.startswith("${dir:") and "password" in secret


def test_stop_start_pause_resume_and_toast(e2e):
    pid = e2e.create_pipeline("full_load_and_cdc")
    e2e.pipelines.append(pid)
    e2e.action(pid, "start")
    e2e.wait_status(pid, "RUNNING")
    e2e.wait_converged()

    # Stop, write, start: the full load is skipped and the stream resumes from the slot.
    e2e.action(pid, "stop")
    e2e.wait_status(pid, "STOPPED")
    seed(e2e.source, e2e.schema, 5001, 5100)
    e2e.source.execute(f"DELETE FROM {e2e.schema}.items WHERE id BETWEEN 10 AND 20")
    e2e.action(pid, "start")
    e2e.wait_status(pid, "RUNNING")
    e2e.wait_converged()
    runs = e2e.client.get(f"/api/v1/pipelines/{pid}/progress", headers=e2e.headers).json()["last_run"]
    assert runs["rows"] == 8000  # still the first (and only) full load

    # Illegal transitions say why.
    conflict = e2e.client.post(f"/api/v1/pipelines/{pid}/resume", headers=e2e.headers)
    assert conflict.status_code == 409 and "running" in conflict.json()["error"]["message"]

    # Pause, write, resume.
    assert e2e.action(pid, "pause", 200)["status"] == "PAUSED"
    e2e.source.execute(f"UPDATE {e2e.schema}.customers SET balance = balance * 2 WHERE id <= 100")
    time.sleep(3)
    assert fingerprints(e2e.target, e2e.schema) != fingerprints(e2e.source, e2e.schema)
    assert e2e.action(pid, "resume", 200)["status"] == "RUNNING"
    e2e.wait_converged()

    # An update that leaves the 20 KB (TOASTed) column alone keeps it on the target.
    before = e2e.source.execute(f"SELECT md5(big_text), length(big_text) FROM {e2e.schema}.items WHERE id = 100"
                                ).fetchone()
    assert before[1] == 20000
    e2e.source.execute(f"UPDATE {e2e.schema}.items SET name = 'renamed' WHERE id = 100")
    wait_until(lambda: e2e.target.execute(f"SELECT name FROM {e2e.schema}.items WHERE id = 100").fetchone()
               == ("renamed",), 60, what="update applied")
    after = e2e.target.execute(f"SELECT md5(big_text), length(big_text) FROM {e2e.schema}.items WHERE id = 100"
                               ).fetchone()
    assert after == before
    e2e.wait_converged()


def test_a_killed_connect_worker_is_reported_and_recovered_without_loss(e2e, stack_env):
    pid = e2e.create_pipeline("full_load_and_cdc")
    e2e.pipelines.append(pid)
    e2e.action(pid, "start")
    e2e.wait_status(pid, "RUNNING")
    e2e.wait_converged()

    pidfile = Path(stack_env.get("CDCFLOW_STACK_DIR", os.environ["CDCFLOW_STACK_DIR"])) / "run" / "connect.pid"
    os.kill(int(pidfile.read_text()), signal.SIGKILL)
    seed(e2e.source, e2e.schema, 7001, 7200)
    down = wait_until(lambda: (s := e2e.status(pid)) and (s["status"] == "ERROR" or s["health"] != "ok") and s,
                      60, what="status reporting the outage")
    assert down["health"] in ("degraded", "error")
    e2e.source.execute(f"DELETE FROM {e2e.schema}.customers WHERE id <= 50")

    repo = Path(__file__).resolve().parents[2]
    subprocess.run([str(repo / "stack" / "stackctl"), "up"], check=True, capture_output=True, timeout=300)
    e2e.wait_status(pid, "RUNNING", 180, through_error=True)
    e2e.wait_converged(180)


def test_tables_without_primary_key_are_refused_with_422(e2e):
    e2e.source.execute(f"CREATE TABLE {e2e.schema}.no_key (v int)")
    response = e2e.client.post("/api/v1/pipelines", headers=e2e.headers, json={
        "name": "nokey-" + e2e.schema, "mode": "cdc_only", "source_connection_id": e2e.source_id,
        "target_connection_id": e2e.target_id, "tables": [f"{e2e.schema}.no_key"]})
    pid = response.json()["id"]
    e2e.pipelines.append(pid)
    started = e2e.client.post(f"/api/v1/pipelines/{pid}/start", headers=e2e.headers)
    assert started.status_code == 422
    assert f"{e2e.schema}.no_key" in started.json()["error"]["message"]
    assert e2e.status(pid)["status"] == "NOT_STARTED"


def test_failed_starts_end_in_error_and_leave_nothing_behind(e2e, stack_env):
    # The source password changed (wrong) after the pipeline was created.
    source_id = e2e._connection("source", "demo_source")
    pid = e2e.create_pipeline("full_load_and_cdc", source_id=source_id)
    e2e.pipelines.append(pid)
    assert e2e.client.put(f"/api/v1/connections/{source_id}", json={"password": "not-the-password"},
                          headers=e2e.headers).status_code == 200
    e2e.action(pid, "start")
    status = e2e.wait_status(pid, "ERROR", 60)
    assert "Authentication failed" in status["last_error"]
    no_leftovers(e2e, pid)
    good = connection_body(stack_env)["password"]
    e2e.client.put(f"/api/v1/connections/{source_id}", json={"password": good}, headers=e2e.headers)

    # A table dropped after the pipeline was created.
    pid = e2e.create_pipeline("full_load_and_cdc", tables=("customers",))
    e2e.pipelines.append(pid)
    e2e.source.execute(f"ALTER TABLE {e2e.schema}.customers RENAME TO customers_gone")
    e2e.action(pid, "start")
    assert "not found" in e2e.wait_status(pid, "ERROR", 60)["last_error"]
    no_leftovers(e2e, pid)
    e2e.source.execute(f"ALTER TABLE {e2e.schema}.customers_gone RENAME TO customers")

    # The full load fails half-way (the target table has an incompatible type): slot and publication go again.
    e2e.target.execute(f"CREATE SCHEMA IF NOT EXISTS {e2e.schema}")
    e2e.target.execute(f"CREATE TABLE {e2e.schema}.order_lines (order_id integer, line_no smallint, qty integer, "
                       f"note integer, PRIMARY KEY (order_id, line_no))")
    pid = e2e.create_pipeline("full_load_and_cdc")
    e2e.pipelines.append(pid)
    e2e.action(pid, "start")
    status = e2e.wait_status(pid, "ERROR", 120)
    assert status["full_load_status"] == "FAILED" and "integer" in status["last_error"]
    no_leftovers(e2e, pid)


def test_connect_down_at_start_ends_in_error(e2e, stack_env, users):
    from fastapi.testclient import TestClient

    from cdcflow.core.config import Settings
    from cdcflow.main import create_app
    from tests.conftest import login

    pid = e2e.create_pipeline("cdc_only")
    e2e.pipelines.append(pid)
    # Every worker URL points at a closed port: the client has no live worker to fail over to.
    nowhere = Settings(kafka_connect_url="http://127.0.0.1:9", kafka_connect_urls="http://127.0.0.1:9")
    with TestClient(create_app(nowhere)) as down:
        headers = {"Authorization": f"Bearer {login(down, **users['operator'])['access_token']}"}
        assert down.post(f"/api/v1/pipelines/{pid}/start", headers=headers).status_code == 202
        status = wait_until(lambda: (s := down.get(f"/api/v1/pipelines/{pid}/status", headers=headers).json())
                            ["status"] == "ERROR" and s, 60, what="ERROR")
    assert "Kafka Connect unreachable" in status["last_error"]
    assert status["connect"]["reachable"] is False
    no_leftovers(e2e, pid)


