"""Event logger end to end, against the API server started by make test (it runs the in-process event logger):
changes land in pipeline_runs and reach subscribed Socket.IO clients; a SIGKILLed standalone logger loses and
duplicates nothing; malformed messages are counted and skipped."""

import os
import signal
import subprocess
import sys
import time
import uuid

import httpx
import psycopg
import pytest
import socketio

from tests.engine_support import E2E
from tests.kafka_support import change_event, key, produce
from tests.support import wait_until

pytestmark = pytest.mark.timeout(600)
API = os.environ["CDCFLOW_API_URL"]


@pytest.fixture(scope="module")
def api_token(users) -> str:
    response = httpx.post(f"{API}/api/v1/auth/login", json=users["viewer"], timeout=10)
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


class Listener:
    """A Socket.IO client subscribed to one pipeline, collecting what it receives."""

    def __init__(self, token: str | None, pipeline_id: str | None = None) -> None:
        self.events: list[dict] = []
        self.summaries: list[dict] = []
        self.client = socketio.Client(reconnection=False)
        # One message per stored batch and room: {"pipeline_id", "events": [...]}.
        self.client.on("replication_events", lambda batch: self.events.extend(batch["events"]))
        self.client.on("replication_events_summary", self.summaries.append)
        self.client.connect(API, auth={"token": token} if token else None, transports=["websocket"],
                            wait_timeout=10)
        if pipeline_id:
            ack = self.client.call("subscribe_pipeline", {"pipeline_id": pipeline_id}, timeout=10)
            assert ack["ok"], ack

    def close(self) -> None:
        self.client.disconnect()


def stored_events(stack_env, pipeline_id: str) -> list[tuple]:
    with psycopg.connect(stack_env["DATABASE_URL"]) as conn:
        return conn.execute("SELECT event_type, table_name, run_metadata->>'op' FROM pipeline_runs "
                            "WHERE pipeline_id = %s AND run_type = 'CDC' ORDER BY id", (pipeline_id,)).fetchall()


def test_changes_are_stored_and_pushed_to_subscribers_only(client, auth, stack_env, api_token, grant):
    env = E2E(client, auth["operator"], stack_env, 0, share=lambda pid: grant("pipelines", pid, "viewer"))
    pids: list[str] = []
    try:
        watched = env.create_pipeline("cdc_only", tables=("customers",))
        other = env.create_pipeline("full_load_only", tables=("order_lines",))
        pids += [watched, other]
        env.action(watched, "start")
        env.wait_status(watched, "RUNNING")
        listener, bystander = Listener(api_token, watched), Listener(api_token, other)
        try:
            env.source.execute(f"INSERT INTO {env.schema}.customers SELECT g, 'u' || g || '@x.io', true, "
                               f"date '2000-01-01', g FROM generate_series(1, 5) g")
            env.source.execute(f"UPDATE {env.schema}.customers SET active = false WHERE id <= 2")
            env.source.execute(f"DELETE FROM {env.schema}.customers WHERE id = 5")
            expected = [("insert",) * 1] * 5 + [("update",)] * 2 + [("delete",)]
            rows = wait_until(lambda: r if len(r := stored_events(stack_env, watched)) >= 8 else None, 60,
                              what="8 events stored")
            assert [r[0] for r in rows] == [e[0] for e in expected]
            assert {r[1] for r in rows} == {f"{env.schema}.customers"}
            assert [r[2] for r in rows] == ["c"] * 5 + ["u"] * 2 + ["d"]
            wait_until(lambda: len(listener.events) >= 8, 30, what="8 Socket.IO events")
            received = listener.events
            assert [e["event_type"] for e in received] == [r[0] for r in rows]
            assert all(e["pipeline_id"] == watched and e["table_name"] == f"{env.schema}.customers" for e in received)
            # The same fields as GET /monitoring/events.
            api = client.get("/api/v1/monitoring/events", params={"pipeline_id": watched, "limit": 8},
                             headers=auth["viewer"]).json()["items"]
            assert sorted(api, key=lambda e: e["id"]) == sorted(received, key=lambda e: e["id"])
            time.sleep(1)
            assert bystander.events == []
        finally:
            listener.close()
            bystander.close()
    finally:
        env.close(pids)


def test_socket_handshake_requires_a_valid_token(api_token):
    for token in (None, "not-a-jwt", api_token[:-4] + "abcd"):
        with pytest.raises(socketio.exceptions.ConnectionError):
            Listener(token)
    ok = Listener(api_token)
    bad = ok.client.call("subscribe_pipeline", {"pipeline_id": str(uuid.uuid4())}, timeout=10)
    assert bad == {"ok": False, "error": "pipeline not found"}
    ok.close()


def _pipeline_for_topics(client, auth, stack_env) -> tuple[E2E, str]:
    env = E2E(client, auth["operator"], stack_env, 0)
    return env, env.create_pipeline("full_load_only", tables=("customers",))


def test_sigkilled_standalone_logger_neither_loses_nor_duplicates(client, auth, stack_env):
    env, pid = _pipeline_for_topics(client, auth, stack_env)
    # A prefix the API server's logger does not consume, so this test's logger is the only writer.
    topic = f"cdcflowtest.{pid}.public.t"
    # Enough events that the kill lands mid-stream: the logger stores tens of thousands a second.
    messages = []
    for i in range(1, 100_001):
        messages.append((key(i), change_event("c" if i % 3 else "u", i, lsn=i)))
        if i % 1000 == 0:
            messages.append((key(i), None))  # tombstones are skipped
    produce(stack_env["KAFKA_BOOTSTRAP_SERVERS"], topic, messages)
    expected_offsets = {o for o, (_, v) in enumerate(messages) if v is not None}
    command = [sys.executable, "-m", "cdcflow.cli", "event-logger", "--group", f"test-{uuid.uuid4().hex[:8]}",
               "--topic-regex", r"^cdcflowtest\." + pid.replace("-", r"\-") + r"\..+"]

    def count() -> int:
        with psycopg.connect(stack_env["DATABASE_URL"]) as conn:
            return conn.execute("SELECT count(*) FROM pipeline_runs WHERE pipeline_id = %s AND run_type = 'CDC' "
                                "AND deleted_at IS NULL AND kafka_topic = %s", (pid, topic)).fetchone()[0]

    first = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: count() >= 1000, 60, interval=0.02, what="some events stored")
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        killed_at = count()
        assert killed_at < len(expected_offsets), "the kill came too late to prove anything"
        second = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_until(lambda: count() >= len(expected_offsets), 120, what="all events stored")
            time.sleep(2)  # anything extra would show up now
        finally:
            second.terminate()
            second.wait(20)
        with psycopg.connect(stack_env["DATABASE_URL"]) as conn:
            offsets = [r[0] for r in conn.execute("SELECT kafka_offset FROM pipeline_runs WHERE kafka_topic = %s",
                                                  (topic,)).fetchall()]
        assert len(offsets) == len(set(offsets)) == len(expected_offsets)
        assert set(offsets) == expected_offsets
    finally:
        if first.poll() is None:
            first.kill()
        with psycopg.connect(stack_env["DATABASE_URL"], autocommit=True) as conn:
            conn.execute("DELETE FROM pipeline_runs WHERE kafka_topic = %s", (topic,))
        env.close([pid])


def test_malformed_messages_are_counted_and_good_ones_around_them_stored(client, auth, stack_env, api_token):
    env, pid = _pipeline_for_topics(client, auth, stack_env)
    topic = f"cdcflow.{pid}.{env.schema}.customers"  # a real pipeline topic: the API server's logger reads it
    admin = {"Authorization": f"Bearer {httpx.post(f'{API}/api/v1/auth/login', timeout=10, json={'username': os.environ['CDCFLOW_ADMIN_USER'], 'password': os.environ['CDCFLOW_ADMIN_PASSWORD']}).json()['access_token']}"}
    before = httpx.get(f"{API}/api/v1/monitoring/event-logger-status", headers=admin, timeout=10).json()
    assert before["running"] is True
    bad = [b"{not json", b'{"payload": {"op": "z", "source": {}}}', b'["a list"]', b'{"payload": {"op": "c"}}']
    messages = [(key(1), change_event("c", 1, env.schema, "customers"))] + [(None, b) for b in bad] + \
               [(key(2), change_event("c", 2, env.schema, "customers"))]
    produce(stack_env["KAFKA_BOOTSTRAP_SERVERS"], topic, messages)
    try:
        wait_until(lambda: len(stored_events(stack_env, pid)) == 2, 60, what="the two good events stored")
        def counted():
            s = httpx.get(f"{API}/api/v1/monitoring/event-logger-status", headers=admin, timeout=10).json()
            mine = [p for p in s["assigned_partitions"] if p["topic"] == topic]
            # The lag figure is refreshed every 2 s by the consumer thread: wait until it shows the commit.
            caught_up = bool(mine) and mine[0].get("lag") == 0
            return s if caught_up and s["rejected_total"] >= before["rejected_total"] + len(bad) else None

        after = wait_until(counted, 30, what="rejections counted and the partition caught up")
        assert after["rejected_total"] - before["rejected_total"] == len(bad)
        lag = next(p for p in after["assigned_partitions"] if p["topic"] == topic)
        assert lag["high_watermark"] == len(messages) and lag["committed"] == len(messages)
        # Restart is clean: running again, nothing stored twice.
        restarted = httpx.post(f"{API}/api/v1/monitoring/event-logger/restart", headers=admin, timeout=30)
        assert restarted.status_code == 200
        wait_until(lambda: httpx.get(f"{API}/api/v1/monitoring/event-logger-status", headers=admin,
                                     timeout=10).json()["running"], 30, what="logger running after restart")
        time.sleep(2)
        assert len(stored_events(stack_env, pid)) == 2
    finally:
        env.close([pid])


def test_viewers_cannot_restart_the_logger(api_token):
    response = httpx.post(f"{API}/api/v1/monitoring/event-logger/restart",
                          headers={"Authorization": f"Bearer {api_token}"}, timeout=10)
    assert response.status_code == 403
