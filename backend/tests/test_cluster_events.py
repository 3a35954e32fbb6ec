"""The event logger as its own service, and Socket.IO across processes: a socket on API process #2 (which runs no
logger) receives, live, every change stored by loggers in other processes (a `cdcflow event-logger` group of two,
and the stack's API), through PostgreSQL NOTIFY; kill -9 one logger of the group under load and nothing is lost or
duplicated, in the table or on the socket."""

import os
import signal
import subprocess
import threading
import uuid
from pathlib import Path

import httpx
import psycopg
import pytest
import socketio

from tests import process_env
from tests.cluster_support import CDCFLOW, ApiProcess, second_api_port
from tests.engine_support import E2E
from tests.support import dsn_for, wait_until

pytestmark = pytest.mark.timeout(600)


class LoggerProcess:
    def __init__(self, group: str, topic_regex: str, n: int) -> None:
        log = Path(os.environ["CDCFLOW_STACK_DIR"]) / "logs" / f"event-logger-test-{n}.log"
        with log.open("ab") as out:
            self.proc = subprocess.Popen([str(CDCFLOW), "event-logger", "--group", group, "--topic-regex", topic_regex],
                                         env=process_env.for_servers(dict(os.environ)), stdout=out,
                                         stderr=subprocess.STDOUT, start_new_session=True)

    def kill9(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(30)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.kill9()


class Inserter(threading.Thread):
    """One insert at a time at ~25/s (under the per-room cap of 50/s, so every event is pushed, none summarized)."""

    def __init__(self, dsn: str, table: str) -> None:
        super().__init__(daemon=True)
        self.dsn, self.table, self.made = dsn, table, 0
        self.stop_event, self.error = threading.Event(), None

    def run(self) -> None:
        try:
            with psycopg.connect(self.dsn, autocommit=True) as conn:
                while not self.stop_event.wait(0.04):
                    self.made += 1
                    conn.execute(f"INSERT INTO {self.table} VALUES (%s, %s, true, date '2001-01-01', 0)",
                                 (self.made, f"r{self.made}@x.io"))
        except Exception as exc:  # noqa: BLE001  (reported by finish)
            self.error = exc

    def finish(self) -> int:
        self.stop_event.set()
        self.join(30)
        assert self.error is None, self.error
        return self.made


def test_live_events_reach_another_api_process_and_a_killed_logger_loses_nothing(client, auth, users, stack_env):
    env = E2E(client, auth["operator"], stack_env, 0)
    pid = env.create_pipeline("cdc_only", tables=("customers",))
    table = f"{env.schema}.customers"
    group = f"cdcflow-event-logger-test-{uuid.uuid4().hex[:6]}"
    loggers: list[LoggerProcess] = []
    received: list[dict] = []
    sio = socketio.Client(reconnection=False)
    # One message per stored batch and room: {"pipeline_id": ..., "events": [...]}.
    sio.on("replication_events", lambda batch: received.extend(batch["events"]))
    try:
        env.action(pid, "start")
        env.wait_status(pid, "RUNNING")
        loggers = [LoggerProcess(group, rf"^cdcflow\.{pid}\..+", n) for n in range(2)]
        with ApiProcess(second_api_port(), EVENT_LOGGER_ENABLED="false") as api:
            token = httpx.post(f"{api.url}/api/v1/auth/login", json=users["operator"], timeout=30).json()
            sio.connect(api.url, auth={"token": token["access_token"]}, transports=["websocket"], wait_timeout=10)
            assert sio.call("subscribe_pipeline", {"pipeline_id": pid}, timeout=10)["ok"]
            writer = Inserter(dsn_for(stack_env["PG_SUPERUSER_DSN"], "demo_source"), table)
            writer.start()
            # Live: the first change reaches the socket on process #2 while the writer is still going.
            wait_until(lambda: len(received) >= 20, 120, what="live events on API process #2")
            assert writer.is_alive()
            victim = loggers[0]
            victim.kill9()  # its partitions go to the other member (or were the stack's API logger's anyway)
            wait_until(lambda: writer.made >= 400, 120, what="the writer going on after the kill")
            made = writer.finish()

            def all_stored():
                with psycopg.connect(stack_env["DATABASE_URL"]) as meta:
                    return meta.execute("SELECT count(*), count(DISTINCT run_metadata->'key') FROM pipeline_runs "
                                        "WHERE pipeline_id = %s AND run_type = 'CDC'", (pid,)).fetchone()

            counts = wait_until(lambda: c if (c := all_stored())[0] >= made else None, 180, interval=1,
                                what=f"{made} events stored")
            assert counts == (made, made), f"stored {counts[0]} events for {counts[1]} keys, {made} inserts made"
            wait_until(lambda: len(received) >= made, 60, what=f"every stored event on the socket ({made} made)")
            print(f"received {len(received)} of {made}")
            ids = [e["id"] for e in received]
            assert len(ids) == len(set(ids)) == made, "an event was pushed twice or not at all"
            assert {e["pipeline_id"] for e in received} == {pid}
            print(f"\n[events] {made} inserts stored and pushed exactly once to API #2 across a logger kill -9")
    finally:
        if sio.connected:
            sio.disconnect()
        for logger in loggers:
            logger.stop()
        env.close([pid])
