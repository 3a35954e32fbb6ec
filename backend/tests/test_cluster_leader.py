"""Once per cluster: the leader lock (core/leader.py) on the real metadata database, and a start job whose API
process is killed with -9 taken over by another process until the pipeline is RUNNING."""

import json
import os
import time
import uuid
from pathlib import Path

import httpx
import psycopg
import pytest

from cdcflow.core.leader import APPLICATION_PREFIX, LEADER_LOCK_KEY, ClusterLeader
from tests.cluster_support import ApiProcess, second_api_port
from tests.engine_support import E2E
from tests.support import wait_until

pytestmark = pytest.mark.timeout(600)


def _holders(dsn: str, key: int) -> list[str]:
    with psycopg.connect(dsn, autocommit=True) as db:
        return [r[0] for r in db.execute(
            "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = 0 AND l.objid = %s",
            (key & 0xFFFFFFFF,)).fetchall()]


def test_one_leader_and_another_takes_over_when_its_connection_dies(stack_env):
    key = 0x7E570000 + uuid.uuid4().int % 0xFFFF  # this test's own lock, apart from the running processes'
    dsn = stack_env["DATABASE_URL"]
    a, b = ClusterLeader(dsn, "test-a", key=key), ClusterLeader(dsn, "test-b", key=key)
    try:
        assert a.step() and a.is_leader()
        assert not b.step() and not b.is_leader()
        assert a.step(), "a leader keeps leading"
        assert _holders(dsn, key) == [f"{APPLICATION_PREFIX} test-a"]
        # The leader's session dies (its process was killed, the network dropped it): PostgreSQL frees the lock.
        with psycopg.connect(stack_env["PG_SUPERUSER_DSN"], autocommit=True) as admin:
            assert admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
                                 (f"{APPLICATION_PREFIX} test-a",)).fetchone()[0]
        wait_until(lambda: b.step(), 10, interval=0.2, what="the other instance to take the lock")
        assert not a.step() and not a.is_leader(), "the old leader must notice it lost the lock"
        assert not a.step(), "and not take it back while the new leader holds it"
        assert _holders(dsn, key) == [f"{APPLICATION_PREFIX} test-b"]
        b.stop()  # a clean stop frees the lock as soon as PostgreSQL has ended b's session
        wait_until(lambda: a.step(), 10, interval=0.2, what="the lock back to the first instance")
    finally:
        a.stop()
        b.stop()


@pytest.fixture(scope="module")
def second_api():
    with ApiProcess(second_api_port(), EVENT_LOGGER_ENABLED="false") as api:
        yield api


def test_the_cluster_has_exactly_one_leader(second_api, stack_env):
    def settled():
        holders = _holders(stack_env["DATABASE_URL"], LEADER_LOCK_KEY)
        return holders if len(holders) == 1 else None

    (holder,) = wait_until(settled, 30, what="exactly one leader")
    with psycopg.connect(stack_env["DATABASE_URL"], autocommit=True) as db:
        candidates = db.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE %s",
                                (f"{APPLICATION_PREFIX} %",)).fetchone()[0]
    assert candidates >= 2, "the stack's API and the second process both compete for the lock"
    assert holder.startswith(APPLICATION_PREFIX)


def test_a_start_job_of_a_killed_process_is_taken_over_and_reaches_running(second_api, client, auth, users,
                                                                          stack_env):
    env = E2E(client, auth["operator"], stack_env, 200)
    pid = env.create_pipeline("cdc_only", tables=("customers",))
    token = httpx.post(f"{second_api.url}/api/v1/auth/login", json=users["operator"], timeout=30).json()
    try:
        started = httpx.post(f"{second_api.url}/api/v1/pipelines/{pid}/start", timeout=30,
                             headers={"Authorization": f"Bearer {token['access_token']}"})
        assert started.status_code == 202, started.text
        with psycopg.connect(stack_env["DATABASE_URL"], autocommit=True) as meta:
            def owner() -> str | None:
                row = meta.execute("SELECT owner FROM pipeline_jobs WHERE pipeline_id = %s", (pid,)).fetchone()
                return row[0] if row else None

            first = owner()
            assert first and f":{second_api.pid}:" in first, f"the start job runs elsewhere: {first}"
            assert env.status(pid)["status"] == "STARTING"
            second_api.kill9()
            killed = time.monotonic()
            taker = wait_until(lambda: (o := owner()) and o != first and o, 60, interval=0.5,
                               what="another process to take the start job over")
            took_over = time.monotonic() - killed
        status = env.wait_status(pid, "RUNNING", 180)
        running = time.monotonic() - killed
        assert status["status"] == "RUNNING"
        print(f"\n[takeover] start job taken over by {taker} after {took_over:.1f} s; RUNNING {running:.1f} s "
              f"after the kill")
        assert took_over < 60
        # Streaming works after the takeover: a new row reaches the target.
        env.source.execute(f"INSERT INTO {env.schema}.customers VALUES (100001, 'taken-over@x.io', true, "
                           f"date '2001-01-01', 0)")

        def streamed():
            try:
                return env.target.execute(f"SELECT email FROM {env.schema}.customers WHERE id = 100001").fetchone()
            except psycopg.Error:  # the sink creates the table with its first record
                return None

        assert wait_until(streamed, 120, what="a change streamed after the takeover") == ("taken-over@x.io",)
        out = Path(os.environ["CDCFLOW_STACK_DIR"]) / "scale-results"
        out.mkdir(parents=True, exist_ok=True)
        (out / "job_takeover.json").write_text(json.dumps(
            {"takeover_seconds": round(took_over, 1), "running_after_kill_seconds": round(running, 1)}))
    finally:
        second_api.stop()
        env.close([pid])
