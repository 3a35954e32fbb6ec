"""The Connect client rides out rebalances: 409/500/503 answers that mean "reassigning work" are retried with
backoff for every call, within a bound; real refusals are not retried. A local HTTP server plays Connect's answers
(the exact bodies Connect sends), and the last test drives the real worker through config churn."""

import json
import threading
import time
import uuid
from pathlib import Path
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from cdcflow.engine.connect import client as client_module
from cdcflow.engine.connect.client import ConnectClient, ConnectError
from tests.test_dataplane import _write_password

REBALANCE_409 = (409, "Cannot complete request because of a conflicting operation (e.g. worker rebalance)")
STALE_409 = (409, "Cannot complete request momentarily due to stale configuration (typically caused by a "
                  "concurrent config change)")
EXPECTED_500 = (500, "Request cannot be completed because a rebalance is expected")


class FakeConnect:
    """Answers each request with the next scripted (status, message), then 200 with `{"ok": true}`."""

    def __init__(self, script: list[tuple[int, str]]) -> None:
        self.script, self.requests = list(script), []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                owner.requests.append((self.command, self.path, self.rfile.read(length) if length else b""))
                status, message = owner.script.pop(0) if owner.script else (200, None)
                body = json.dumps({"ok": True} if message is None else {"error_code": status, "message": message})
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body.encode())

            do_GET = do_PUT = do_POST = do_DELETE = _answer

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake():
    servers = []

    def make(script):
        servers.append(FakeConnect(script))
        return servers[-1]

    yield make
    for s in servers:
        s.close()


def fast_client(url: str, budget: float = 5.0) -> ConnectClient:
    client = ConnectClient(url, timeout=5)
    client.retry_seconds, client.retry_initial_delay, client.retry_max_delay = budget, 0.01, 0.05
    return client


@pytest.mark.parametrize("answer", [REBALANCE_409, STALE_409, EXPECTED_500, (503, "Service Unavailable")])
def test_every_call_retries_a_rebalance_answer_until_it_succeeds(fake, answer):
    server = fake([answer, answer, answer])
    with fast_client(server.url) as client:
        assert client.get_config("c1") == {"ok": True}
    assert [r[:2] for r in server.requests] == [("GET", "/connectors/c1/config")] * 4


def test_writes_are_resent_unchanged(fake):
    server = fake([REBALANCE_409, EXPECTED_500])
    with fast_client(server.url) as client:
        client.put_config("c1", {"a": "1"})
        client.restart("c1", only_failed=True)
    assert [r[:2] for r in server.requests] == [("PUT", "/connectors/c1/config")] * 3 + \
        [("POST", "/connectors/c1/restart?includeTasks=true&onlyFailed=true")]
    assert {r[2] for r in server.requests[:3]} == {b'{"a":"1"}'}


@pytest.mark.parametrize("answer", [(409, "Connector c1 already exists"), (400, "Connector configuration is invalid"),
                                    (500, "Failed to start connector"), (404, "Connector c1 not found")])
def test_real_refusals_are_not_retried(fake, answer):
    server = fake([answer])
    with fast_client(server.url) as client, pytest.raises(ConnectError) as caught:
        client.put_config("c1", {})
    assert caught.value.status == answer[0] and answer[1] in str(caught.value)
    assert len(server.requests) == 1


def test_retries_are_bounded(fake):
    server = fake([REBALANCE_409] * 1000)
    started = time.monotonic()
    with fast_client(server.url, budget=0.5) as client, pytest.raises(ConnectError) as caught:
        client.status("c1")
    assert caught.value.status == 409 and "rebalance" in str(caught.value)
    assert time.monotonic() - started < 3
    assert 3 < len(server.requests) < 100  # backed off, not hammered


def test_real_worker_config_churn_never_surfaces_a_rebalance(stack_env, monkeypatch):
    """Every connector create/update makes the real worker rebalance; readers racing it meet Connect's 409 "stale
    configuration" and 500 "a rebalance is expected" (measured: a dozen per run here), and must never see them."""
    suffix = uuid.uuid4().hex[:8]
    names = [f"retrytest-{suffix}-{i}" for i in range(3)]
    secret_dir = Path(stack_env["CONNECT_SECRETS_DIR"]) / f"retrytest-{suffix}"
    password_ref = _write_password(secret_dir, stack_env["PG_SUPERUSER_DSN"])
    config = {"connector.class": "io.debezium.connector.jdbc.JdbcSinkConnector", "tasks.max": "1",
              "topics": f"retrytest-{suffix}", "connection.username": "postgres", "connection.password": password_ref,
              "connection.url": f"jdbc:postgresql://{stack_env['PG_HOST']}:{stack_env['PG_PORT']}/demo_target"}
    url, stop, errors, reads, transient = stack_env["KAFKA_CONNECT_URL"], threading.Event(), [], [0], []
    real_transient = client_module._transient

    def counting(status: int, message: str) -> bool:
        answer = real_transient(status, message)
        if answer:
            transient.append((status, message))
        return answer

    monkeypatch.setattr(client_module, "_transient", counting)

    def reader() -> None:
        with ConnectClient(url) as client:
            while not stop.is_set():
                for name in names:
                    try:
                        if client.exists(name):
                            client.get_config(name)
                            client.status_or_none(name)
                            reads[0] += 1
                    except ConnectError as exc:
                        errors.append(str(exc))

    readers = [threading.Thread(target=reader, daemon=True) for _ in range(3)]
    with ConnectClient(url) as client:
        try:
            for t in readers:
                t.start()
            # Churn until the worker has answered "rebalance" at least once (it usually does in the first round).
            for round_no in range(6):
                if round_no >= 2 and transient:
                    break
                for name in names:
                    client.put_config(name, {**config, "batch.size": str(100 + round_no)})
                for name in names:
                    assert client.get_config(name)["batch.size"] == str(100 + round_no)
                    client.restart(name)
        finally:
            stop.set()
            for t in readers:
                t.join(60)
            for name in names:
                client.delete(name)
            for f in secret_dir.glob("*"):
                f.unlink()
            secret_dir.rmdir()
        assert not [c for c in client.connectors() if c in names]
    assert errors == [] and reads[0] > 0
