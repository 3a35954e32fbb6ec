"""The Connect cluster of the test stack (CDCFLOW_CONNECT_WORKERS=2): the client fails over between workers, and a
pipeline whose worker is killed with -9 under a writer moves to the other worker and converges exactly, with no
user action. Prints the time to recover (the figure in docs/deploy.md).

Named to run just before test_zy_faults.py: it kills a daemon and brings it back.
"""

import json
import os
import socket
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread

import pytest

from cdcflow.core.config import Settings
from cdcflow.engine.connect import client as client_module
from cdcflow.engine.connect.client import ConnectClient, ConnectError
from cdcflow.engine.names import ResourceNames
from tests.support import connect_auth, wait_until
from tests.test_zy_faults import Plane, kill, stack_up

pytestmark = pytest.mark.timeout(900)
RESULTS = Path(os.environ["CDCFLOW_STACK_DIR"]) / "scale-results"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Answer(ThreadingHTTPServer):
    """A worker that answers every request with one fixed status."""

    def __init__(self, status: int) -> None:
        self.hits = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.hits += 1
                body = json.dumps({"error_code": status, "message": "boom"} if status >= 400 else ["c1"]).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server_address[1]}"
        Thread(target=self.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.shutdown()
        self.server_close()


def test_client_fails_over_to_the_next_worker_and_remembers_it(monkeypatch):
    monkeypatch.setattr(client_module, "_PREFERRED", {})
    dead = f"http://127.0.0.1:{_free_port()}"
    broken, good = _Answer(500), _Answer(200)
    try:
        urls = f"{dead},{broken.url}/,{good.url}"
        with ConnectClient(urls, timeout=5) as client:
            assert client.connectors() == ["c1"]
            assert broken.hits == 1 and good.hits == 1
        with ConnectClient(urls, timeout=5) as client:  # a new client starts at the worker that answered
            assert client.url == good.url
            client.connectors()
        assert broken.hits == 1 and good.hits == 2
        with ConnectClient([dead, broken.url], timeout=5) as client, pytest.raises(ConnectError) as caught:
            client.connectors()
        assert caught.value.status == 500  # every worker tried; the last answer is reported
        with ConnectClient([dead], timeout=5) as client, pytest.raises(ConnectError) as caught:
            client.connectors()
        assert caught.value.status is None and "unreachable" in str(caught.value)
    finally:
        broken.close()
        good.close()


def test_settings_list_every_worker_of_the_stack():
    settings = Settings()
    urls = settings.connect_urls()
    assert len(urls) == int(os.environ["CDCFLOW_CONNECT_WORKERS"]) >= 2, urls
    assert urls[0] == settings.kafka_connect_url
    # Every worker serves the whole REST API with the same credentials and sees the same cluster.
    seen = []
    for url in urls:
        with ConnectClient(url, auth=connect_auth(), timeout=10) as client:
            seen.append(sorted(client.connectors()))
    assert all(s == seen[0] for s in seen)


def _workers_of(client: ConnectClient, names: ResourceNames) -> dict[str, list[str]]:
    """worker_id of each connector and task of the pipeline: {connector name: [connector's worker, tasks'...]}."""
    found = {}
    for name in (names.source_connector, names.sink_connector):
        status = client.status(name)
        found[name] = [status["connector"]["worker_id"]] + [t["worker_id"] for t in status["tasks"]]
    return found


def _all_running_on(client: ConnectClient, names: ResourceNames, survivor: str) -> bool:
    for name in (names.source_connector, names.sink_connector):
        status = client.status_or_none(name)
        if status is None or status["connector"]["state"] != "RUNNING" or not status["tasks"]:
            return False
        if any(t["state"] != "RUNNING" or t["worker_id"] != survivor for t in status["tasks"]):
            return False
    return True


@pytest.fixture(scope="module")
def plane(client, auth, users, stack_env):
    plane = Plane(client, auth, users, stack_env)
    plane.env.action(plane.pid, "start")
    plane.env.wait_status(plane.pid, "RUNNING")
    plane.wait_ok(90)
    yield plane
    plane.close()


def test_killed_worker_hands_its_tasks_to_the_other_and_the_target_converges(plane):
    names = ResourceNames(uuid.UUID(plane.pid))
    urls = Settings().connect_urls()
    ports = {url.rsplit(":", 1)[1]: i for i, url in enumerate(urls)}
    with ConnectClient(urls, auth=connect_auth(), timeout=10) as connect:
        placement = _workers_of(connect, names)
        # The worker running the source task (Debezium holds the slot there): its loss is the one that matters.
        victim_id = placement[names.source_connector][1]
        victim = ports[victim_id.rsplit(":", 1)[1]]
        survivor_id = next(f"127.0.0.1:{p}" for p, i in ports.items() if i != victim)
        print(f"placement before: {placement}; killing worker {victim} ({victim_id})")
        plane.start_writer()
        killed = time.monotonic()
        kill("connect" if victim == 0 else f"connect-{victim}")
        try:
            # No call below changes anything: the API and this test only read while Connect reassigns the tasks.
            wait_until(lambda: _all_running_on(connect, names, survivor_id), 240, interval=0.5,
                       what=f"every task of the pipeline RUNNING on {survivor_id}")
            moved = time.monotonic() - killed
            plane.stop_writer()
            plane.assert_exact()
            recovered = time.monotonic() - killed
        finally:
            stack_up()
        assert plane.status()["status"] == "RUNNING"
    print(f"tasks moved after {moved:.1f} s; target exact {recovered:.1f} s after the kill")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "connect_failover.json").write_text(json.dumps(
        {"tasks_moved_seconds": round(moved, 1), "exact_after_seconds": round(recovered, 1),
         "changes": plane.made}, indent=2))
    # The killed worker is back (stackctl up starts exactly what is missing) and serves the cluster again.
    with ConnectClient(urls[victim], auth=connect_auth(), timeout=10) as back:
        assert names.source_connector in back.connectors()
