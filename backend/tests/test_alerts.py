"""Alerts end to end: a retained-WAL rule on a stopped pipeline fires once to a local webhook receiver (signature
verified), retries a failing channel, and resolves after the pipeline is started and catches up; channel secrets
never leave the API; CRUD and validation over the API and the CLI; the rule kinds as pure functions."""

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psycopg
import pytest

from cdcflow.alerts.channels import sign, slack_text, validate_url, verify
from cdcflow.alerts.rules import Observations, PipelineObservation, check_event_logger, check_pipeline, hold_seconds
from cdcflow.engine.names import ResourceNames
from tests.engine_support import E2E
from tests.support import wait_until

pytestmark = pytest.mark.timeout(600)
UI = os.environ["CDCFLOW_UI_URL"].rstrip("/")


class Receiver:
    """A local HTTP endpoint recording every POST; paths listed in `fail_once` answer 500 the first time."""

    def __init__(self, fail_once: set[str] = frozenset()) -> None:
        self.requests: list[dict] = []
        self.fail_once = set(fail_once)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                failing = self.path in receiver.fail_once
                receiver.fail_once.discard(self.path)
                receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body,
                                          "json": json.loads(body), "answered": 500 if failing else 200})
                self.send_response(500 if failing else 200)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def got(self, path: str, event_type: str | None = None) -> list[dict]:
        return [r for r in self.requests if r["path"] == path and r["answered"] == 200 and
                (event_type is None or r["headers"].get("X-Cdcflow-Event") == event_type)]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def retained_wal(source: psycopg.Connection, pipeline_id: str) -> int:
    # The insert position, not pg_current_wal_lsn(): with synchronous_commit = off (the stack's setting) the write
    # position trails a just-committed insert by up to wal_buffers, which read the 9 MB insert below as 0.7 MB.
    return source.execute("SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), restart_lsn)::bigint FROM "
                          "pg_replication_slots WHERE slot_name = %s",
                          (ResourceNames(uuid.UUID(pipeline_id)).slot,)).fetchone()[0]


def slot_active(source: psycopg.Connection, pipeline_id: str) -> bool:
    return source.execute("SELECT active FROM pg_replication_slots WHERE slot_name = %s",
                          (ResourceNames(uuid.UUID(pipeline_id)).slot,)).fetchone()[0]


def assert_signed(request: dict, secret: str) -> None:
    headers = request["headers"]
    assert headers["X-Cdcflow-Signature"].startswith("sha256=")
    assert verify(secret, headers["X-Cdcflow-Timestamp"], request["body"], headers["X-Cdcflow-Signature"])
    assert not verify("another-secret-0123456789", headers["X-Cdcflow-Timestamp"], request["body"],
                      headers["X-Cdcflow-Signature"])
    assert not verify(secret, headers["X-Cdcflow-Timestamp"], request["body"] + b" ", headers["X-Cdcflow-Signature"])


def test_retained_wal_alert_fires_once_then_resolves_after_catch_up(client, auth, stack_env, grant):
    api = auth["operator"]
    env = E2E(client, api, stack_env, 0)
    receiver = Receiver(fail_once={"/flaky"})
    secret = f"s3cret-{uuid.uuid4().hex}"
    pid, created = None, {"rules": [], "channels": []}
    try:
        env.source.execute(f"CREATE TABLE {env.schema}.wal (id int PRIMARY KEY, pad text)")
        pid = env.create_pipeline("cdc_only", tables=("wal",))
        grant("pipelines", pid, "viewer", "view")  # the history below is read as a viewer the owner shared it with
        env.action(pid, "start")
        env.wait_status(pid, "RUNNING")
        env.action(pid, "stop")
        env.wait_status(pid, "STOPPED")
        # Connect reports the connector stopped a moment before Debezium's replication connection is gone; until
        # then it may still confirm WAL and move the slot, which would shrink what the slot holds below.
        wait_until(lambda: not slot_active(env.source, pid), 60, what="the stopped pipeline's slot released")

        def channel(name: str, kind: str, path: str, key: str | None) -> str:
            response = client.post("/api/v1/alerts/channels", headers=api, json={
                "name": f"{name}-{uuid.uuid4().hex[:6]}", "kind": kind, "url": receiver.url + path, "secret": key})
            assert response.status_code == 201, response.text
            body = response.json()
            assert body["url_hint"] == receiver.url + "/…" and "url" not in body and "secret" not in body
            assert body["has_secret"] is (key is not None)
            created["channels"].append(body["id"])
            return body["id"]

        hook = channel("hook", "webhook", "/hook", secret)
        slack = channel("slack", "slack", "/slack", None)
        flaky = channel("flaky", "webhook", "/flaky", secret)
        # The slot of a stopped pipeline keeps all WAL written since; the threshold sits 4 MB above what it holds now.
        threshold = retained_wal(env.source, pid) + 4 * 1024 * 1024
        rule = client.post("/api/v1/alerts/rules", headers=api, json={
            "name": f"wal-{uuid.uuid4().hex[:6]}", "kind": "retained_wal_bytes", "pipeline_id": pid,
            "threshold": threshold, "channel_ids": [hook, slack, flaky]})
        assert rule.status_code == 201, rule.text
        rule = rule.json()
        created["rules"].append(rule["id"])
        assert rule["threshold_unit"] == "bytes" and rule["firing"] == 0

        env.source.execute(f"INSERT INTO {env.schema}.wal SELECT g, repeat(md5(g::text), 32) "
                           f"FROM generate_series(1, 8000) g")  # ~9 MB of WAL
        written = time.monotonic()
        assert retained_wal(env.source, pid) > threshold
        firing = wait_until(lambda: receiver.got("/hook", "alert.firing"), 60, what="the firing notification")[0]
        fired = time.monotonic()
        assert_signed(firing, secret)
        alert = firing["json"]["alert"]
        assert firing["json"]["type"] == "alert.firing" and alert["state"] == "firing"
        assert alert["pipeline"]["id"] == pid and alert["rule"]["id"] == rule["id"]
        assert alert["link"] == f"{UI}/pipelines/{pid}" and alert["value"] > threshold
        slack_message = wait_until(lambda: receiver.got("/slack"), 30, what="the Slack notification")[0]
        assert set(slack_message["json"]) == {"text"} and "X-Cdcflow-Signature" not in slack_message["headers"]
        assert "FIRING" in slack_message["json"]["text"] and f"<{UI}/pipelines/{pid}|" in slack_message["json"]["text"]
        assert client.get(f"/api/v1/alerts/rules/{rule['id']}", headers=api).json()["firing"] == 1

        env.action(pid, "start")
        env.wait_status(pid, "RUNNING")
        wait_until(lambda: env.target.execute(f"SELECT count(*) FROM {env.schema}.wal").fetchone()[0] == 8000, 120,
                   what="the target caught up")
        caught_up = time.monotonic()
        resolved = wait_until(lambda: receiver.got("/hook", "alert.resolved"), 120,
                              what="the resolved notification")[0]
        print(f"\n[alerts] WAL written -> firing {fired - written:.1f} s; caught up -> resolved "
              f"{time.monotonic() - caught_up:.1f} s")
        assert_signed(resolved, secret)
        assert resolved["json"]["alert"]["id"] == alert["id"] and resolved["json"]["alert"]["resolved_at"]
        # One firing, one resolved, across every evaluation pass of every API process; the failing channel retried.
        assert len(receiver.got("/hook", "alert.firing")) == 1 and len(receiver.got("/hook", "alert.resolved")) == 1
        wait_until(lambda: len(receiver.got("/flaky")) == 2, 60, what="the failing channel retried")
        assert [r["answered"] for r in receiver.requests if r["path"] == "/flaky"][0] == 500
        assert len({r["headers"]["X-Cdcflow-Delivery"] for r in receiver.requests if r["path"] == "/flaky" and
                    r["headers"]["X-Cdcflow-Event"] == "alert.firing"}) == 1  # a retry carries the same delivery id

        def delivered():
            items = client.get("/api/v1/alerts/history", params={"pipeline_id": pid}, headers=auth["viewer"]).json()
            done = [d for e in items["items"] for d in e["deliveries"] if d["status"] != "pending"]
            return items["items"] if len(done) == 6 else None

        (event,) = wait_until(delivered, 60, what="all six notifications sent")
        assert event["state"] == "resolved" and event["resolved_at"] and event["link"] == f"{UI}/pipelines/{pid}"
        deliveries = {(d["channel_id"], d["notification"]): d for d in event["deliveries"]}
        assert len(deliveries) == 6 and all(d["status"] == "delivered" for d in deliveries.values()), deliveries
        assert deliveries[(flaky, "firing")]["attempts"] == 2 and deliveries[(hook, "firing")]["attempts"] == 1

        tested = client.post(f"/api/v1/alerts/channels/{hook}/test", headers=api)
        assert tested.status_code == 200 and tested.json()["ok"] is True and tested.json()["status_code"] == 200
        test_request = receiver.got("/hook", "alert.test")[0]
        assert_signed(test_request, secret)
        # The secret went in once and never came back out: not in responses, not in the API's log, not audited.
        listed = client.get("/api/v1/alerts/channels", headers=api).text
        assert secret not in listed and "/hook" not in listed
        api_log = Path(os.environ["CDCFLOW_STACK_DIR"], "logs", "api.log").read_text()
        assert secret not in api_log and receiver.url + "/hook" not in api_log
        with psycopg.connect(stack_env["DATABASE_URL"]) as meta:
            assert meta.execute("SELECT count(*) FROM audit_log WHERE details::text LIKE %s",
                                (f"%{secret}%",)).fetchone()[0] == 0
            stored = meta.execute("SELECT url_encrypted, secret_encrypted FROM alert_channels WHERE id = %s",
                                  (hook,)).fetchone()
            assert stored[0].startswith("v1:") and secret not in stored[1] and "/hook" not in stored[0]
    finally:
        for rule_id in created["rules"]:
            client.delete(f"/api/v1/alerts/rules/{rule_id}", headers=api)
        for channel_id in created["channels"]:
            client.delete(f"/api/v1/alerts/channels/{channel_id}", headers=api)
        receiver.close()
        env.close([pid] if pid else [])


def test_rule_and_channel_validation_and_crud(client, auth):
    api = auth["operator"]

    def post(path: str, body: dict, expect: int) -> dict:
        response = client.post(f"/api/v1/alerts/{path}", json=body, headers=api)
        assert response.status_code == expect, response.text
        return response.json()

    base = {"name": f"c-{uuid.uuid4().hex[:6]}", "kind": "webhook", "secret": "0123456789abcdef-secret"}
    for url in ("ftp://example.com/x", "http://user:pw@example.com/x", "http:///nohost", "https://exa mple.com/",
                "http://example.com:99999/"):
        error = post("channels", {**base, "url": url}, 422)["error"]
        assert error["code"] == "validation_error" and url not in json.dumps(error)
    assert "secret" in json.dumps(post("channels", {**base, "url": "https://example.com/h", "secret": None}, 422))
    post("channels", {**base, "kind": "slack", "url": "https://hooks.example.com/T/B/x"}, 422)  # Slack: no secret
    channel = post("channels", {**base, "url": "https://hooks.example.com/services/T000/B000/XXXX"}, 201)
    assert channel["url_hint"] == "https://hooks.example.com/…"
    post("channels", {**base, "url": "https://example.com/other"}, 409)

    rule = {"name": f"r-{uuid.uuid4().hex[:6]}", "kind": "lag_seconds", "threshold": 30, "channel_ids": [channel["id"]]}
    post("rules", {**rule, "threshold": None}, 422)
    post("rules", {**rule, "threshold": -1}, 422)
    post("rules", {**rule, "kind": "event_logger_down", "threshold": None, "pipeline_id": str(uuid.uuid4())}, 422)
    assert post("rules", {**rule, "pipeline_id": str(uuid.uuid4())}, 422)["error"]["details"]["field"] == "pipeline_id"
    missing = str(uuid.uuid4())
    assert post("rules", {**rule, "channel_ids": [missing]}, 422)["error"]["details"]["missing"] == [missing]
    created = post("rules", rule, 201)
    assert created["pipeline_id"] is None and [c["name"] for c in created["channels"]] == [base["name"]]
    post("rules", rule, 409)
    try:
        rid = created["id"]
        changed = client.put(f"/api/v1/alerts/rules/{rid}", json={"threshold": 90, "enabled": False}, headers=api)
        assert changed.status_code == 200 and changed.json()["threshold"] == 90 and not changed.json()["enabled"]
        bad = client.put(f"/api/v1/alerts/rules/{rid}", json={"kind": "pipeline_error"}, headers=api)
        assert bad.status_code == 422 and "threshold" in bad.json()["error"]["message"]
        fixed = client.put(f"/api/v1/alerts/rules/{rid}", json={"kind": "pipeline_error", "threshold": None},
                           headers=api)
        assert fixed.status_code == 200 and fixed.json()["threshold_unit"] is None
        assert client.get(f"/api/v1/alerts/rules/{uuid.uuid4()}", headers=api).status_code == 404
        assert client.delete(f"/api/v1/alerts/channels/{channel['id']}", headers=api).status_code == 204
        assert client.get(f"/api/v1/alerts/rules/{rid}", headers=api).json()["channels"] == []
        assert client.post(f"/api/v1/alerts/channels/{channel['id']}/test", headers=api).status_code == 404
    finally:
        client.delete(f"/api/v1/alerts/rules/{created['id']}", headers=api)
    assert client.get(f"/api/v1/alerts/rules/{created['id']}", headers=api).status_code == 404


def test_alerts_from_the_cli(tmp_path, users):
    """Channel (URL and secret from the environment, never argv), rule, test notification and history."""
    receiver = Receiver()
    env = {**os.environ, "CDCFLOW_CONFIG_DIR": str(tmp_path)}

    def cli(*args: str, stdin: str | None = None, **extra: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "cdcflow.cli", *args], input=stdin, capture_output=True,
                              text=True, env={**env, **extra}, timeout=60)

    name = f"cli-{uuid.uuid4().hex[:6]}"
    assert cli("login", "--url", os.environ["CDCFLOW_API_URL"], "--username", users["operator"]["username"],
               "--password-stdin", stdin=users["operator"]["password"] + "\n").returncode == 0
    try:
        made = cli("alerts", "channels", "create", "--name", name, "--kind", "webhook", "--url-stdin", "--json",
                   stdin=receiver.url + "/cli\n", CDCFLOW_ALERT_SECRET="cli-secret-0123456789")
        assert made.returncode == 0, made.stderr
        assert json.loads(made.stdout)["has_secret"] is True
        rule = cli("alerts", "rules", "create", "--name", name, "--kind", "retained_wal_bytes", "--threshold",
                   "1e9", "--channels", name)
        assert rule.returncode == 0 and "1e+09 bytes" in rule.stdout and "every pipeline" in rule.stdout
        listed = cli("alerts", "rules", "list", "--json")
        assert name in {r["name"] for r in json.loads(listed.stdout)}
        tested = cli("alerts", "test", name)
        assert tested.returncode == 0 and "delivered (HTTP 200)" in tested.stdout
        assert verify("cli-secret-0123456789", *(lambda r: (r["headers"]["X-Cdcflow-Timestamp"], r["body"],
                                                             r["headers"]["X-Cdcflow-Signature"]))(
            receiver.got("/cli")[0]))
        assert cli("alerts", "history", "--json").returncode == 0
        unknown = cli("alerts", "test", "no-such-channel")
        assert unknown.returncode == 1 and unknown.stderr.startswith("error: No alert channel")
    finally:
        cli("alerts", "rules", "delete", name)
        cli("alerts", "channels", "delete", name)
        receiver.close()
    assert name not in cli("alerts", "channels", "list").stdout


# ---------------------------------------------------------------------------------- the rule kinds, pure


NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def obs(**kw) -> PipelineObservation:
    return PipelineObservation(**{"pipeline_id": uuid.uuid4(), "name": "p", "status": "RUNNING", **kw})


def test_rule_kinds():
    assert check_pipeline("pipeline_error", None, obs(status="ERROR", problems=("boom",)), NOW).holds is True
    assert "boom" in check_pipeline("pipeline_error", None, obs(status="ERROR", problems=("boom",)), NOW).message
    assert check_pipeline("pipeline_error", None, obs(), NOW).holds is False
    assert check_pipeline("degraded", 5, obs(health="degraded"), NOW).holds is True
    assert check_pipeline("degraded", 5, obs(health=None), NOW).holds is None          # unknown: keep state
    assert check_pipeline("degraded", 5, obs(status="STOPPED", health=None), NOW).holds is False
    assert hold_seconds("degraded", 5) == 300 and hold_seconds("lag_seconds", 5) == 0
    assert check_pipeline("lag_seconds", 60, obs(lag_seconds=61), NOW).holds is True
    assert check_pipeline("lag_seconds", 60, obs(status="PAUSED", lag_seconds=600), NOW).holds is False
    assert check_pipeline("retained_wal_bytes", 1024, obs(status="STOPPED", retained_wal_bytes=2048), NOW).holds
    assert check_pipeline("retained_wal_bytes", 1024, obs(retained_wal_bytes=None), NOW).holds is None
    assert check_event_logger(Observations([], False, "broker down")).holds is True
    assert check_event_logger(Observations([], None)).holds is None


def test_no_events_fires_only_for_pipelines_that_usually_have_them():
    quiet_since = NOW - timedelta(minutes=15)
    busy = obs(last_event_at=quiet_since, active_minute_ratio=0.9)
    rare = obs(last_event_at=quiet_since, active_minute_ratio=0.05)   # 5 % of minutes: 15 quiet ones are normal
    assert check_pipeline("no_events", 10, busy, NOW).holds is True
    assert check_pipeline("no_events", 10, rare, NOW).holds is False
    assert check_pipeline("no_events", 20, busy, NOW).holds is False  # not quiet for 20 min yet
    assert check_pipeline("no_events", 10, obs(last_event_at=quiet_since), NOW).holds is False  # < 1 h history
    assert check_pipeline("no_events", 10, obs(status="STOPPED", last_event_at=quiet_since,
                                               active_minute_ratio=1.0), NOW).holds is False


def test_signatures_urls_and_slack_text():
    body = b'{"a":1}'
    ts = int(datetime.now(UTC).timestamp())
    signature = sign("k" * 16, ts, body)
    assert verify("k" * 16, str(ts), body, signature)
    assert not verify("k" * 16, str(ts - 3600), body, sign("k" * 16, ts - 3600, body))  # replayed: too old
    assert not verify("k" * 16, str(ts + 1), body, signature)                            # timestamp is signed
    assert validate_url(" https://example.com/x ") == "https://example.com/x"
    text = slack_text({"type": "alert.firing", "alert": {"rule": {"name": "a<b"}, "pipeline": {"name": "p&q"},
                                                        "message": "x > y", "link": "http://ui/pipelines/1"}})
    assert "a&lt;b" in text and "p&amp;q" in text and "x &gt; y" in text and "<http://ui/pipelines/1|" in text
