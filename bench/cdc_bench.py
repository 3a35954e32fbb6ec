"""CDC benchmark: cdcflow's stream vs PostgreSQL's native logical replication and a bare, tuned Debezium pair, same
source, same writes, one run.

    make bench-cdc            (or: backend/.venv/bin/python bench/cdc_bench.py --phases cold,warm,burst)

Needs the stack and the API (`stack/stackctl up && stack/stackctl api-up`) and `track_commit_timestamp = on` (the
stack sets it). One source database feeds three targets: a cdcflow pipeline (CDC only, over the running API), a
native publication + subscription, and for the bursts a hand-configured Debezium source + JDBC sink on the same
Connect worker (cdc_bare.py). Phases (--phases):

- cold: Connect's workers restarted (stackctl connect-restart), then, as soon as the pipeline runs again, 1,000
  single-row commits/s for 60 s: latency per 10-second window shows how long a fresh JVM stays behind.
- warm: a warm-up, then single-row commits at 100/s and 1,000/s; per row, the source commit time
  (pg_xact_commit_timestamp) to when the row was visible on each target (polled every ~10 ms: a subscriber keeps the
  origin's commit time), p50/p99. cdcflow's split by stage: source commit -> Kafka record timestamp -> target row
  committed (the target's own commit time), and -> event logger stored, -> Socket.IO received.
- burst: 20 x 10k-row inserts, then one 100k-row UPDATE (300k changes), one table and spread over 4 tables; drain
  time = last target commit of the burst - first source commit, checked equal to the source row by row. The bare
  pair drains the same burst after the others, from its slot: its time counts from its connectors' creation.

Every phase reports CPU per change of each daemon: Connect, Kafka, the API (which runs the event logger) and
PostgreSQL by role (the walsender, sink and logger backends of each path), and the sum for the path measured.

Results in bench/results/cdc.json and .md.
"""

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import psycopg

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
import cdc_bare  # noqa: E402
from cdc_report import save  # noqa: E402
from common import BENCH_APP, CpuSnapshot, cpu_ms_per_change, load_stack_env  # noqa: E402

from cdcflow.engine import records  # noqa: E402  (change records as cdcflow's connectors write them)

SRC, TGT_CDCFLOW, TGT_NATIVE = "bench_cdc_src", "bench_cdc_tgt_cdcflow", "bench_cdc_tgt_native"
TGT_BARE = "bench_cdc_tgt_bare"
LAT = "lat"
BURST_ONE = ["burst1"]
BURST_FOUR = ["burst_a", "burst_b", "burst_c", "burst_d"]
TABLES = [LAT, *BURST_ONE, *BURST_FOUR]
DDL = "CREATE TABLE bench.{t} (id bigint PRIMARY KEY, v integer NOT NULL DEFAULT 0, amount numeric(12, 2), " \
      "status text, created_at timestamptz, note text)"
NATIVE_SLOT = "bench_cdc_native"
WARMUP_FIRST_ID = 10_000_000
COLD_FIRST_ID = 20_000_000
LATENCY_WAIT = 120  # seconds after the last write for every row to show up on both targets


def dsn(db: str) -> str:
    return os.environ["PG_SUPERUSER_DSN"].rsplit("/", 1)[0] + "/" + db


def pg(conninfo: str, **kw) -> psycopg.Connection:
    """A connection of the benchmark itself: named, so its CPU is never counted as the stack's."""
    return psycopg.connect(conninfo, application_name=BENCH_APP, **kw)


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)


def summary(values: list[float]) -> dict:
    return {"p50_ms": pct(values, 0.5), "p99_ms": pct(values, 0.99), "count": len(values),
            "mean_ms": round(statistics.fmean(values), 1) if values else None}


# ------------------------------------------------------------------------------------------------ setup

def recreate(db: str) -> None:
    with pg(dsn("postgres"), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {db}")


def drop_slot(conn: psycopg.Connection, slot: str) -> None:
    deadline = time.monotonic() + 30
    while slots := conn.execute("SELECT slot_name, active_pid FROM pg_replication_slots WHERE slot_name = %s",
                                (slot,)).fetchall():
        if slots[0][1]:
            conn.execute("SELECT pg_terminate_backend(%s)", (slots[0][1],))
        try:
            conn.execute("SELECT pg_drop_replication_slot(%s)", (slot,))
        except psycopg.errors.ObjectInUse:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def setup_databases(source_commit: str, connect: cdc_bare.Connect) -> None:
    with pg(dsn("postgres"), autocommit=True) as conn:
        if conn.execute("SHOW track_commit_timestamp").fetchone()[0] != "on":
            conn.execute("ALTER SYSTEM SET track_commit_timestamp = on")
            sys.exit("track_commit_timestamp was off: set now, restart PostgreSQL (stack/stackctl down && up), rerun")
    if _exists(TGT_NATIVE):  # an earlier run's subscription: drop it without its slot, then the slot below
        with pg(dsn(TGT_NATIVE), autocommit=True) as conn:
            for (sub,) in conn.execute("SELECT subname FROM pg_subscription").fetchall():
                conn.execute(f"ALTER SUBSCRIPTION {sub} DISABLE")
                conn.execute(f"ALTER SUBSCRIPTION {sub} SET (slot_name = NONE)")
                conn.execute(f"DROP SUBSCRIPTION {sub}")
    cdc_bare.remove_old(connect)
    with pg(dsn("postgres"), autocommit=True) as conn:
        for slot in (NATIVE_SLOT, cdc_bare.BARE_SLOT):
            drop_slot(conn, slot)
    for db in (SRC, TGT_CDCFLOW, TGT_NATIVE, TGT_BARE):
        recreate(db)
    # The stack's cluster runs synchronous_commit = off (disposable data, stackctl). A WAL sender only sends WAL that
    # is flushed, and with asynchronous commits the WAL writer flushes every wal_writer_delay (200 ms): every change
    # then waits ~100-200 ms before either replication path can see it. A production source commits synchronously
    # (PostgreSQL's default), so by default the source database does here too; both paths read the same WAL.
    with pg(dsn("postgres"), autocommit=True) as conn:
        conn.execute(f"ALTER DATABASE {SRC} SET synchronous_commit = {source_commit}")
    for db in (SRC, TGT_NATIVE, TGT_BARE):
        with pg(dsn(db), autocommit=True) as conn:
            conn.execute("CREATE SCHEMA bench")
            for t in TABLES:
                conn.execute(DDL.format(t=t))
    with pg(dsn(SRC), autocommit=True) as conn:
        conn.execute("CREATE PUBLICATION bench_native FOR TABLE " + ", ".join(f"bench.{t}" for t in TABLES))
        # CREATE SUBSCRIPTION would wait on itself creating a slot in the same cluster: make the slot here first.
        conn.execute("SELECT pg_create_logical_replication_slot(%s, 'pgoutput')", (NATIVE_SLOT,))
        conn.execute(f"CREATE PUBLICATION {cdc_bare.BARE_PUBLICATION} FOR TABLE "
                     + ", ".join(f"bench.{t}" for t in BURST_ONE + BURST_FOUR))
        conn.execute("SELECT pg_create_logical_replication_slot(%s, 'pgoutput')", (cdc_bare.BARE_SLOT,))
    u = urlsplit(os.environ["PG_SUPERUSER_DSN"])
    with pg(dsn(TGT_NATIVE), autocommit=True) as conn:
        conn.execute(f"CREATE SUBSCRIPTION bench_native CONNECTION 'host={u.hostname} port={u.port} dbname={SRC} "
                     f"user={u.username} password={u.password}' PUBLICATION bench_native "
                     f"WITH (create_slot = false, slot_name = '{NATIVE_SLOT}', copy_data = false)")


def _exists(db: str) -> bool:
    with pg(dsn("postgres")) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (db,)).fetchone() is not None


class Api:
    def __init__(self) -> None:
        self.http = httpx.Client(base_url=os.environ["CDCFLOW_API_URL"], timeout=60)
        token = self.http.post("/api/v1/auth/login", json={"username": os.environ["CDCFLOW_ADMIN_USER"],
                                                           "password": os.environ["CDCFLOW_ADMIN_PASSWORD"]})
        token.raise_for_status()
        self.token = token.json()["access_token"]
        self.http.headers["Authorization"] = f"Bearer {self.token}"

    def call(self, method: str, path: str, expect: int, **kw) -> dict:
        response = self.http.request(method, "/api/v1" + path, **kw)
        if response.status_code != expect:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text}")
        return response.json() if response.content else {}

    def connection(self, kind: str, db: str) -> str:
        u = urlsplit(os.environ["PG_SUPERUSER_DSN"])
        return self.call("POST", "/connections", 201, json={
            "name": f"bench-{kind}-{uuid.uuid4().hex[:6]}", "connection_type": kind, "database_type": "postgresql",
            "host": u.hostname, "port": u.port, "database": db, "username": u.username, "password": u.password,
            "schema": "bench"})["id"]

    def status(self, pid: str) -> dict:
        return self.call("GET", f"/pipelines/{pid}/status", 200)

    def wait(self, pid: str, wanted: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while (s := self.status(pid))["status"] != wanted:
            if s["status"] == "ERROR" or time.monotonic() > deadline:
                raise RuntimeError(f"pipeline {s['status']} (wanted {wanted}): {s.get('last_error')}")
            time.sleep(0.5)

    def remove_old(self) -> None:
        """Pipelines and connections of earlier runs (named bench-*), so their slots and connectors go."""
        for p in self.call("GET", "/pipelines", 200, params={"limit": 200})["items"]:
            if p["name"].startswith("bench-cdc"):
                if p["status"] in ("RUNNING", "PAUSED", "STARTING", "ERROR"):
                    self.call("POST", f"/pipelines/{p['id']}/stop", 202)
                    deadline = time.monotonic() + 120
                    while self.status(p["id"])["status"] not in ("STOPPED", "ERROR") and time.monotonic() < deadline:
                        time.sleep(0.5)
                self.http.delete(f"/api/v1/pipelines/{p['id']}", params={"force": "true"})
        for c in self.call("GET", "/connections", 200, params={"limit": 200})["items"]:
            if c["name"].startswith("bench-"):
                self.http.delete(f"/api/v1/connections/{c['id']}")

    def start_pipeline(self) -> dict:
        source, target = self.connection("source", SRC), self.connection("target", TGT_CDCFLOW)
        pipeline = self.call("POST", "/pipelines", 201, json={
            "name": f"bench-cdc-{uuid.uuid4().hex[:6]}", "mode": "cdc_only", "source_connection_id": source,
            "target_connection_id": target, "tables": [f"bench.{t}" for t in TABLES]})
        self.call("POST", f"/pipelines/{pipeline['id']}/start", 202)
        self.wait(pipeline["id"], "RUNNING", 300)
        return self.call("GET", f"/pipelines/{pipeline['id']}", 200)


# ------------------------------------------------------------------------------------------------ CPU

def pg_roles(pids: set[int]) -> dict[int, str]:
    """Which path each PostgreSQL process works for: the walsender of its slot; sink and logger backends by the
    database they write (the API's metadata database is cdcflow's); the native apply worker; the benchmark's own
    connections (the writer, the pollers) by their application_name. Anything else is the server's."""
    with pg(dsn("postgres")) as conn:
        slots = dict(conn.execute("SELECT active_pid, slot_name FROM pg_replication_slots "
                                  "WHERE active_pid IS NOT NULL").fetchall())
        rows = conn.execute("SELECT pid, backend_type, datname, application_name FROM pg_stat_activity").fetchall()
    metadata_db = urlsplit(os.environ["DATABASE_URL"]).path.lstrip("/")
    by_db = {metadata_db: "cdcflow", TGT_CDCFLOW: "cdcflow", TGT_BARE: "bare", TGT_NATIVE: "native"}
    roles = {}
    for pid, backend_type, db, app in rows:
        if pid not in pids:
            continue
        if app == BENCH_APP:
            roles[pid] = "bench"
        elif pid in slots:
            slot = slots[pid]
            roles[pid] = ("cdcflow" if slot.startswith("cdcflow_") else "native" if slot == NATIVE_SLOT
                          else "bare" if slot == cdc_bare.BARE_SLOT else "server")
        elif backend_type == "logical replication worker":
            roles[pid] = "native"
        else:
            roles[pid] = by_db.get(db, "server")
    return roles


def cpu_snapshot() -> CpuSnapshot:
    return CpuSnapshot(pg_roles)


def cpu_per_change(before: CpuSnapshot, changes: int, path: str = "cdcflow", after: CpuSnapshot | None = None) -> dict:
    """Per daemon, PostgreSQL by role, and `stack`: what the measured path cost the whole stack per change (Connect,
    Kafka, its PostgreSQL processes, and the API for cdcflow: the bare pair has no API, native is PostgreSQL only)."""
    cpu = cpu_ms_per_change(before, after or cpu_snapshot(), changes)
    postgres = cpu.get("postgres", {})
    parts = {"cdcflow": ("connect", "kafka", "api"), "bare": ("connect", "kafka"), "native": ()}[path]
    cpu["path"] = path
    cpu["stack"] = round(sum(cpu.get(d, 0.0) for d in parts) + postgres.get(path, 0.0), 3)
    return cpu


def cpu_line(cpu: dict) -> str:
    postgres = cpu.get("postgres", {})
    return (f"{cpu['path']}: stack {cpu['stack']} ms = Connect {cpu.get('connect')} + Kafka {cpu.get('kafka')} + "
            f"API {cpu.get('api')} + PostgreSQL {postgres.get(cpu['path'])} (ms per change); PostgreSQL by role "
            + ", ".join(f"{k} {v}" for k, v in postgres.items()))


# ------------------------------------------------------------------------------------------------ latency

def commit_times(db: str, table: str, lo: int, hi: int) -> dict[int, float]:
    """Commit time (epoch ms) of the transaction that wrote each row's current version."""
    with pg(dsn(db)) as conn:
        rows = conn.execute(f"SELECT id, extract(epoch FROM pg_xact_commit_timestamp(xmin)) * 1000 FROM bench.{table} "
                            "WHERE id BETWEEN %s AND %s", (lo, hi)).fetchall()
    return {r[0]: float(r[1]) for r in rows if r[1] is not None}


def wait_rows(db: str, table: str, where: str, expected: int, timeout: float) -> float | None:
    """Seconds until `where` holds for `expected` rows, or None at the deadline."""
    started, deadline = time.monotonic(), time.monotonic() + timeout
    with pg(dsn(db), autocommit=True) as conn:
        while time.monotonic() < deadline:
            if conn.execute(f"SELECT count(*) FROM bench.{table} WHERE {where}").fetchone()[0] >= expected:
                return time.monotonic() - started
            # Drain times come from commit timestamps, not from this poll: a slow poll costs no precision, and a
            # count over 200k rows five times a second took a third of a core from the paths measured.
            time.sleep(1.0)
    return None


class SocketWatch:
    """Receives the pipeline's Socket.IO events: arrival time per source row id (the room cap drops some)."""

    def __init__(self, token: str, pipeline_id: str) -> None:
        import socketio
        self.arrivals: dict[int, tuple[float, float]] = {}
        self.sio = socketio.Client(reconnection=False)
        self.sio.on("replication_event", self._on_event)
        # The API sends a room's events in batches ({"pipeline_id", "events": [...]}), one message per emission.
        self.sio.on("replication_events", lambda batch: [self._on_event(e) for e in batch.get("events") or []])
        self.sio.connect(os.environ["CDCFLOW_API_URL"], auth={"token": token}, transports=["websocket"],
                         socketio_path="socket.io", wait_timeout=20)
        self.sio.call("subscribe_pipeline", {"pipeline_id": pipeline_id}, timeout=20)

    def _on_event(self, event: dict) -> None:
        key, ts = event.get("primary_key") or {}, event.get("source_ts_ms")
        if event.get("table_name") == f"bench.{LAT}" and isinstance(key.get("id"), int) and ts:
            self.arrivals[key["id"]] = (time.time() * 1000, float(ts))

    def close(self) -> None:
        self.sio.disconnect()


class Visibility(threading.Thread):
    """Polls a target for the highest row id seen (rows arrive in commit order): when each row became visible.
    Native logical replication keeps the origin's commit time on the subscriber, so only polling tells its apply
    time; both targets are measured this way (resolution: the poll interval, ~10 ms)."""

    def __init__(self, db: str, lo: int, hi: int) -> None:
        super().__init__(daemon=True)
        self.db, self.lo, self.hi = db, lo, hi
        self.seen: list[tuple[float, int]] = []
        self.stop = threading.Event()
        # Its connection stays open until the phase's CPU is read: a backend that has exited cannot be told apart.
        self.release = threading.Event()

    def run(self) -> None:
        with pg(dsn(self.db), autocommit=True) as conn:
            deadline = time.monotonic() + 600
            while not self.stop.is_set() and time.monotonic() < deadline:
                top = conn.execute(f"SELECT max(id) FROM bench.{LAT} WHERE id BETWEEN %s AND %s",
                                   (self.lo, self.hi)).fetchone()[0]
                now = time.time() * 1000
                if top is not None and (not self.seen or top > self.seen[-1][1]):
                    self.seen.append((now, top))
                    if top >= self.hi:
                        break
                time.sleep(0.01)
            self.release.wait(60)

    def visible_at(self) -> dict[int, float]:
        out, prev = {}, self.lo - 1
        for at, top in self.seen:
            for i in range(prev + 1, top + 1):
                out[i] = at
            prev = top
        return out


def write_singles(rate: int, seconds: float, first_id: int,
                  conn: psycopg.Connection | None = None) -> tuple[int, float]:
    """Single-row autocommit inserts on a fixed schedule; returns (rows, achieved rate)."""
    n = int(rate * seconds)
    with (contextlib.nullcontext(conn) if conn else pg(dsn(SRC), autocommit=True)) as conn:
        started = time.monotonic()
        for i in range(n):
            due = started + i / rate
            if (delay := due - time.monotonic()) > 0:
                time.sleep(delay)
            conn.execute(f"INSERT INTO bench.{LAT} (id, amount, status, created_at, note) "
                         "VALUES (%s, %s, 'new', now(), repeat('x', 100))", (first_id + i, i % 10000 / 100))
        elapsed = time.monotonic() - started
    return n, n / elapsed


def kafka_times(topic: str, lo: int, hi: int) -> dict[int, float]:
    """Record timestamp (epoch ms) per row id, read back from the pipeline's topic."""
    from confluent_kafka import Consumer, TopicPartition
    consumer = Consumer({"bootstrap.servers": os.environ["KAFKA_BOOTSTRAP_SERVERS"],
                         "group.id": f"bench-{uuid.uuid4().hex[:6]}", "enable.auto.commit": False})
    times: dict[int, float] = {}
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        consumer.assign([TopicPartition(topic, p, 0) for p in partitions])
        idle_until = time.monotonic() + 10
        while time.monotonic() < idle_until and len(times) < hi - lo + 1:
            batch = consumer.consume(5000, 1.0)
            if batch:
                idle_until = time.monotonic() + 10
            for msg in batch:
                if msg.error() or msg.key() is None:
                    continue
                row_id = records.payload(msg.key()).get("id")
                if isinstance(row_id, int) and lo <= row_id <= hi:
                    times[row_id] = float(msg.timestamp()[1])
    finally:
        consumer.close()
    return times


def logger_times(pipeline_id: str, lo: int, hi: int) -> dict[int, float]:
    """When the event logger stored each row's event (the batch's store time), epoch ms."""
    with pg(os.environ["DATABASE_URL"]) as conn:
        rows = conn.execute("""SELECT (run_metadata->'key'->>'id')::bigint, extract(epoch FROM started_at) * 1000
            FROM pipeline_runs WHERE pipeline_id = %s AND table_name = %s AND run_type = 'CDC'
              AND (run_metadata->'key'->>'id')::bigint BETWEEN %s AND %s""",
                            (pipeline_id, f"bench.{LAT}", lo, hi)).fetchall()
    return {r[0]: float(r[1]) for r in rows}


def windows(source: dict[int, float], visible: dict[int, float], cut_off: float, width: float) -> list[dict]:
    """p50/p99 per `width`-second window of source commit time from the phase's first commit: how long a path stayed
    behind. A row not visible by the cut-off counts with its wait so far, as in the phase's totals."""
    if not source:
        return []
    first = min(source.values())
    by_window: dict[int, list[float]] = {}
    for i, committed in source.items():
        waited = visible[i] - committed if i in visible else cut_off - committed
        by_window.setdefault(int((committed - first) / 1000 // width), []).append(waited)
    return [{"from_s": w * width, **summary(v)} for w, v in sorted(by_window.items())]


def latency_phase(name: str, rate: int, seconds: float, first_id: int, pipeline: dict, socket: SocketWatch | None,
                  window_seconds: float) -> dict:
    print(f"latency ({name}): {rate} commits/s for {seconds:.0f} s ...", flush=True)
    lo, hi = first_id, first_id + int(rate * seconds) - 1
    watchers = {db: Visibility(db, lo, hi) for db in (TGT_CDCFLOW, TGT_NATIVE)}
    for w in watchers.values():
        w.start()
    with pg(dsn(SRC), autocommit=True) as writer:
        cpu_before = cpu_snapshot()
        n, achieved = write_singles(rate, seconds, first_id, writer)
        written = time.monotonic()
        for w in watchers.values():  # until every row is visible, or LATENCY_WAIT after the last write
            while not (w.seen and w.seen[-1][1] >= hi) and time.monotonic() - written < LATENCY_WAIT:
                time.sleep(0.05)
            w.stop.set()
        cpu_after_drain = cpu_per_change(cpu_before, n)  # before the stage queries below add their own work
    for w in watchers.values():
        w.release.set()
        w.join()
    cut_off = time.time() * 1000
    source = commit_times(SRC, LAT, lo, hi)
    result = {"phase": name, "rate": rate, "seconds": seconds, "rows": n, "achieved_rate": round(achieved),
              "methods": {}, "windows": {}}
    for method, db in (("cdcflow", TGT_CDCFLOW), ("native", TGT_NATIVE)):
        visible = watchers[db].visible_at()
        # A row still missing at the cut-off counts with the time it had waited by then: a lower bound, so the
        # percentiles never look better than they were.
        late = [cut_off - source[i] for i in source if i not in visible]
        result["methods"][method] = {**summary([visible[i] - source[i] for i in visible if i in source] + late),
                                     "rows_missing_at_cutoff": len(late)}
        result["windows"][method] = windows(source, visible, cut_off, window_seconds)
    topic = next(t for t in pipeline["kafka_topics"] if t.endswith(f".bench.{LAT}"))
    kafka, stored = kafka_times(topic, lo, hi), logger_times(pipeline["id"], lo, hi)
    target = commit_times(TGT_CDCFLOW, LAT, lo, hi)
    stages = {
        "source commit -> Kafka record": summary([kafka[i] - source[i] for i in kafka if i in source]),
        "Kafka record -> target row committed": summary([target[i] - kafka[i] for i in target if i in kafka]),
        "source commit -> target row committed": summary([target[i] - source[i] for i in target if i in source]),
        "source commit -> event logger stored": summary([stored[i] - source[i] for i in stored if i in source]),
    }
    if socket is not None:
        got = {i: t for i, t in socket.arrivals.items() if lo <= i <= hi}
        stages["source commit -> Socket.IO received"] = summary([arrived - source[i] for i, (arrived, _) in got.items()
                                                                 if i in source])
    result["cdcflow_stages"] = stages
    result["cpu"] = cpu_after_drain
    print(f"  CPU per change, {cpu_line(result['cpu'])}", flush=True)
    for method, m in result["methods"].items():
        print(f"  {method:8s} p50 {m['p50_ms']} ms  p99 {m['p99_ms']} ms  ({m['count']} rows)", flush=True)
    for stage, st in stages.items():
        print(f"    {stage:42s} p50 {st['p50_ms']}  p99 {st['p99_ms']}  n={st['count']}", flush=True)
    for method, ws in result["windows"].items():
        print(f"  {method:8s} per {window_seconds:.0f} s: "
              + ", ".join(f"{w['from_s']:.0f}s {w['p50_ms']}/{w['p99_ms']}" for w in ws), flush=True)
    return result


def restart_connect(api: "Api", pipeline: dict, connect: cdc_bare.Connect) -> dict:
    """Fresh Connect workers (stackctl connect-restart), then waits until the pipeline's connectors and tasks run
    and the API reports the pipeline RUNNING: the moment a cold worker starts taking changes."""
    print("cold start: restarting Kafka Connect ...", flush=True)
    started = time.monotonic()
    subprocess.run([str(REPO / "stack" / "stackctl"), "connect-restart"], check=True)
    worker_ready = time.monotonic() - started
    names = [c for c in connect.names() if c.startswith(f"cdcflow-{pipeline['id']}-")]
    connect.wait_running(names, 300)
    deadline = time.monotonic() + 300
    while api.status(pipeline["id"])["status"] != "RUNNING":  # ERROR is allowed a while: the probe may have seen it
        if time.monotonic() > deadline:
            raise RuntimeError(f"pipeline not RUNNING after the Connect restart: {api.status(pipeline['id'])}")
        time.sleep(0.2)
    out = {"worker_ready_seconds": round(worker_ready, 1),
           "pipeline_running_seconds": round(time.monotonic() - started, 1)}
    print(f"  Connect ready after {out['worker_ready_seconds']} s, pipeline RUNNING after "
          f"{out['pipeline_running_seconds']} s", flush=True)
    return out


# ------------------------------------------------------------------------------------------------ burst

def write_burst(tables: list[str], base_id: int) -> tuple[float, float]:
    """20 transactions of 10k inserted rows, round robin over the tables, then one transaction updating 100k rows;
    returns the epoch ms of the first statement and of the last commit."""
    per_table_updates = 100_000 // len(tables)
    with pg(dsn(SRC), autocommit=True) as conn:
        started_wall = time.time() * 1000
        for i in range(20):
            t = tables[i % len(tables)]
            lo = base_id + (i // len(tables)) * 10_000
            conn.execute(f"""INSERT INTO bench.{t} (id, amount, status, created_at, note)
                SELECT g, (g % 100000) / 100.0, 'new', now(), repeat(md5(g::text), 3)
                FROM generate_series({lo}, {lo + 9_999}) g""")
        with conn.transaction():
            for t in tables:
                conn.execute(f"UPDATE bench.{t} SET v = 1, status = 'paid' WHERE id < {base_id + per_table_updates}")
    return started_wall, time.time() * 1000


def wait_drained(db: str, tables: list[str], base_id: int, deadline: float) -> float | None:
    """Seconds until every burst row is on the target in its final version, or None at the deadline."""
    per_table_inserts, per_table_updates = 200_000 // len(tables), 100_000 // len(tables)
    waited = [wait_rows(db, t, f"id >= {base_id} AND id < {base_id + per_table_inserts} AND "
                               f"(v = 1 OR id >= {base_id + per_table_updates})", per_table_inserts,
                        max(1.0, deadline - time.monotonic()))
              for t in tables]
    return None if None in waited else max(waited)


def drain_result(db: str, tables: list[str], base_id: int, started_ms: float, drained: bool, timeout: float,
                 expected: list) -> dict:
    """Drain time = the target's last commit of the burst - `started_ms`; equality checked row by row."""
    with pg(dsn(db)) as conn:
        last = conn.execute("SELECT max(extract(epoch FROM pg_xact_commit_timestamp(xmin))) * 1000 FROM ("
                            + " UNION ALL ".join(f"SELECT xmin FROM bench.{t} WHERE id >= {base_id}" for t in tables)
                            + ") s").fetchone()[0]
    seconds = (float(last) - started_ms) / 1000 if drained and last else None
    entry = {"drain_seconds": round(seconds, 2) if seconds else None,
             "changes_per_second": round(300_000 / seconds) if seconds else None}
    if seconds is None:  # not drained by the deadline: how far it got (a lower bound of its rate)
        with pg(dsn(db)) as conn:
            applied = sum(conn.execute(f"SELECT count(*) + count(*) FILTER (WHERE v = 1) FROM bench.{t}")
                          .fetchone()[0] for t in tables)
        entry |= {"applied_at_deadline": applied, "deadline_seconds": timeout,
                  "changes_per_second_at_most": round(applied / timeout)}
    entry["target_equals_source"] = fingerprint(db, tables, base_id) == expected
    return entry


def applied(entry: dict) -> int:
    """Changes a path applied in the burst: all of them, or what it had by the deadline."""
    return entry.get("applied_at_deadline") or 300_000


def burst_phase(tables: list[str], base_id: int, logged_before: int, burst_timeout: float,
                connect: cdc_bare.Connect | None) -> dict:
    """cdcflow and native replication drain the burst together, as it is written; then the bare pair (`connect`
    given) drains it from its slot alone."""
    label = f"{len(tables)} table{'s' if len(tables) > 1 else ''}"
    print(f"burst: 300,000 changes over {label} ...", flush=True)
    cpu_before = cpu_snapshot()
    started_wall, source_done = write_burst(tables, base_id)
    result = {"tables": len(tables), "changes": 300_000,
              "source_write_seconds": round((source_done - started_wall) / 1000, 2), "methods": {}}
    expected = fingerprint(SRC, tables, base_id)
    done: dict[str, float | None] = {}
    deadline = time.monotonic() + burst_timeout
    threads = [threading.Thread(target=lambda n=n, db=db: done.__setitem__(n, wait_drained(db, tables, base_id,
                                                                                           deadline)))
               for n, db in (("cdcflow", TGT_CDCFLOW), ("native", TGT_NATIVE))]
    for th in threads:
        th.start()
    logger_done = wait_logged(tables, logged_before + 300_000, max(1.0, deadline - time.monotonic()))
    for th in threads:
        th.join()
    cpu_after = cpu_snapshot()
    for name, db in (("cdcflow", TGT_CDCFLOW), ("native", TGT_NATIVE)):
        result["methods"][name] = drain_result(db, tables, base_id, started_wall, done[name] is not None,
                                               burst_timeout, expected)
        print(f"  {name:8s} {result['methods'][name]}", flush=True)
    result["cpu"] = cpu_per_change(cpu_before, applied(result["methods"]["cdcflow"]), after=cpu_after)
    result["cpu_native"] = cpu_per_change(cpu_before, applied(result["methods"]["native"]), "native", cpu_after)
    print(f"  CPU per change, {cpu_line(result['cpu'])}", flush=True)
    result["event_log_complete_seconds"] = round((logger_done - started_wall) / 1000, 2) if logger_done else None
    print(f"  event log complete after {result['event_log_complete_seconds']} s", flush=True)
    if connect is not None:
        print("  bare Debezium pair: draining the same burst from its slot ...", flush=True)
        cpu_before = cpu_snapshot()
        started_bare = time.time() * 1000
        names = cdc_bare.start(connect, SRC, TGT_BARE, tables)
        try:
            drained = wait_drained(TGT_BARE, tables, base_id, time.monotonic() + burst_timeout)
            cpu_after = cpu_snapshot()
            if drained is None and (trace := next(filter(None, map(connect.failed, names)), None)):
                print(f"  bare pair failed: {trace}", flush=True)
            result["methods"]["bare"] = drain_result(TGT_BARE, tables, base_id, started_bare, drained is not None,
                                                     burst_timeout, expected)
            result["cpu_bare"] = cpu_per_change(cpu_before, applied(result["methods"]["bare"]), "bare", cpu_after)
        finally:
            cdc_bare.stop(connect, names)
        print(f"  bare     {result['methods']['bare']}", flush=True)
        print(f"  CPU per change, {cpu_line(result['cpu_bare'])}", flush=True)
        cdcflow_rate, bare_rate = (result["methods"][m].get("changes_per_second") for m in ("cdcflow", "bare"))
        result["cdcflow_over_bare"] = round(cdcflow_rate / bare_rate, 2) if cdcflow_rate and bare_rate else None
        print(f"  cdcflow / bare: {result['cdcflow_over_bare']}", flush=True)
    return result


def wait_logged(tables: list[str], expected: int, timeout: float = 600) -> float | None:
    """Epoch ms at which the event log's trigger-kept counters held `expected` events of these tables."""
    deadline = time.monotonic() + timeout
    with pg(os.environ["DATABASE_URL"], autocommit=True) as conn:
        while time.monotonic() < deadline:
            if logged(conn, tables) >= expected:
                return time.time() * 1000
            time.sleep(0.2)
    return None


def logged(conn, tables: list[str]) -> int:
    return int(conn.execute("SELECT coalesce(sum(events), 0) FROM pipeline_event_totals WHERE table_name = ANY(%s)",
                            ([f"bench.{t}" for t in tables],)).fetchone()[0])


def fingerprint(db: str, tables: list[str], base_id: int = 0) -> list:
    with pg(dsn(db)) as conn:
        return [conn.execute(f"SELECT count(*), md5(string_agg(md5(t::text), '' ORDER BY id)) FROM bench.{t} t "
                             f"WHERE id >= {base_id}").fetchone() for t in tables]


# ------------------------------------------------------------------------------------------------ main

def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--phases", default="cold,warm,burst",
                        help="which to run, in this order: cold (Connect restarted, then --cold-rate commits/s), warm "
                             "(warm-up, then --rates), burst")
    parser.add_argument("--seconds", type=float, default=20, help="length of each warm latency phase")
    parser.add_argument("--rates", default="100,1000")
    parser.add_argument("--cold-seconds", type=float, default=60)
    parser.add_argument("--cold-rate", type=int, default=1000)
    parser.add_argument("--window-seconds", type=float, default=10, help="latency reported per window of this length")
    parser.add_argument("--skip-burst", action="store_true", help="the same as leaving burst out of --phases")
    parser.add_argument("--bursts", default="1,4", help="which bursts: over 1 table, over 4 tables")
    parser.add_argument("--no-bare", action="store_true", help="bursts without the bare Debezium pair")
    parser.add_argument("--warmup-seconds", type=float, default=15)
    parser.add_argument("--burst-timeout", type=float, default=300, help="seconds one burst may take to drain")
    parser.add_argument("--source-commit", choices=["on", "off"], default="on",
                        help="synchronous_commit of the source database (on: PostgreSQL's default)")
    parser.add_argument("--label", default="", help="what this run's configuration is (kept in the results)")
    parser.add_argument("--out", default=str(REPO / "bench" / "results" / "cdc"))
    args = parser.parse_args()
    phases = [p for p in args.phases.split(",") if p and not (p == "burst" and args.skip_burst)]
    if unknown := set(phases) - {"cold", "warm", "burst"}:
        parser.error(f"unknown phases {sorted(unknown)}")
    load_stack_env()
    run_started = time.monotonic()
    api, connect = Api(), cdc_bare.Connect()
    api.remove_old()
    setup_databases(args.source_commit, connect)
    print("starting the cdcflow pipeline ...", flush=True)
    pipeline = api.start_pipeline()
    report = {"when": datetime.now(UTC).isoformat(timespec="seconds"), "machine": f"{os.cpu_count()} cores",
              "label": args.label, "source_synchronous_commit": args.source_commit,
              "connect_jvm": connect_jvm(), "load_average_at_start": os.getloadavg()[0],
              "window_seconds": args.window_seconds, "latency_wait_seconds": LATENCY_WAIT, "latency": [], "burst": []}
    next_id = 1
    if "cold" in phases:
        report["cold_start"] = restart_connect(api, pipeline, connect)
        report["connect_jvm"] = connect_jvm()
        report["latency"].append(latency_phase("cold", args.cold_rate, args.cold_seconds, COLD_FIRST_ID, pipeline,
                                               None, args.window_seconds))
        save(report, args.out)
    if "warm" in phases:
        # Warm-up: a freshly started Connect worker runs interpreted Java for its first thousands of records (the
        # cold phase shows for how long); the warm phases measure the stream as it runs for days.
        print(f"warm-up: {args.warmup_seconds:.0f} s at 200 commits/s ...", flush=True)
        n, _ = write_singles(200, args.warmup_seconds, WARMUP_FIRST_ID)
        for db in (TGT_CDCFLOW, TGT_NATIVE):
            if wait_rows(db, LAT, f"id >= {WARMUP_FIRST_ID}", n, 300) is None:
                raise RuntimeError(f"warm-up rows never all reached {db}")
        try:
            socket = SocketWatch(api.token, pipeline["id"])
        except Exception as exc:  # the figures without this stage still stand; say why it is missing
            print(f"Socket.IO stage not measured: {exc}", flush=True)
            socket = None
        for rate in [int(r) for r in args.rates.split(",")]:
            report["latency"].append(latency_phase("warm", rate, args.seconds, next_id, pipeline, socket,
                                                   args.window_seconds))
            next_id += int(rate * args.seconds) + 1
            save(report, args.out)
        if socket is not None:
            socket.close()
        report["api_latency_endpoint"] = api.http.get(f"/api/v1/monitoring/pipelines/{pipeline['id']}/latency").json()
    if "burst" in phases:
        for tables in [{"1": BURST_ONE, "4": BURST_FOUR}[b] for b in args.bursts.split(",")]:
            with pg(os.environ["DATABASE_URL"]) as conn:
                before = logged(conn, tables)
            report["burst"].append(burst_phase(tables, 1, before, args.burst_timeout,
                                               None if args.no_bare else connect))
            save(report, args.out)
    report["total_seconds"] = round(time.monotonic() - run_started)
    save(report, args.out)
    print(f"done in {report['total_seconds']} s -> {args.out}.json / .md", flush=True)
    ok = all(m["target_equals_source"] for b in report["burst"] for m in b["methods"].values())
    return 0 if ok else 1


def connect_jvm() -> str:
    """The JVM options Connect's worker runs with (the cold start depends on them), from its command line."""
    pids = [p for p in (Path(os.environ.get("CDCFLOW_STACK_DIR", REPO / ".stack")) / "run").glob("connect*.pid")]
    try:
        args = Path(f"/proc/{pids[0].read_text().strip()}/cmdline").read_text().split("\0")
    except (OSError, IndexError):
        return ""
    return " ".join(a for a in args if a.startswith("-X"))


if __name__ == "__main__":
    sys.exit(main())
