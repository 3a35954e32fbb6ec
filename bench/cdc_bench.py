"""CDC benchmark: cdcflow's stream vs PostgreSQL's native logical replication, same source, same writes, one run.

    make bench-cdc            (or: backend/.venv/bin/python bench/cdc_bench.py --seconds 20)

Needs the stack and the API (`stack/stackctl up && stack/stackctl api-up`) and `track_commit_timestamp = on` (the
stack sets it). One source database feeds two targets at once: a cdcflow pipeline (CDC only, over the running API)
and a native publication + subscription. Measured:

- latency: single-row commits at 100/s and 1,000/s; per row, the source commit time (pg_xact_commit_timestamp) to
  when the row was visible on each target (polled every ~10 ms: a subscriber keeps the origin's commit time), p50/p99.
  cdcflow's split by stage: source commit -> Kafka record timestamp -> target row committed (the target's own commit
  time), and -> event logger stored, -> Socket.IO received. CPU per change of Connect, Kafka and the API.
- burst: 20 x 10k-row inserts, then one 100k-row UPDATE (300k changes), one table and spread over 4 tables; drain
  time = last target commit of the burst - first source commit, checked equal to the source row by row.

Results in bench/results/cdc.json and .md.
"""

import argparse
import json
import os
import statistics
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
from common import load_stack_env  # noqa: E402

from cdcflow.engine import records  # noqa: E402  (change records as cdcflow's connectors write them)

SRC, TGT_CDCFLOW, TGT_NATIVE = "bench_cdc_src", "bench_cdc_tgt_cdcflow", "bench_cdc_tgt_native"
LAT = "lat"
BURST_ONE = ["burst1"]
BURST_FOUR = ["burst_a", "burst_b", "burst_c", "burst_d"]
TABLES = [LAT, *BURST_ONE, *BURST_FOUR]
DDL = "CREATE TABLE bench.{t} (id bigint PRIMARY KEY, v integer NOT NULL DEFAULT 0, amount numeric(12, 2), " \
      "status text, created_at timestamptz, note text)"
NATIVE_SLOT = "bench_cdc_native"
WARMUP_FIRST_ID = 10_000_000
LATENCY_WAIT = 120  # seconds after the last write for every row to show up on both targets


def dsn(db: str) -> str:
    return os.environ["PG_SUPERUSER_DSN"].rsplit("/", 1)[0] + "/" + db


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
    with psycopg.connect(dsn("postgres"), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {db}")


def setup_databases(source_commit: str) -> None:
    with psycopg.connect(dsn("postgres"), autocommit=True) as conn:
        if conn.execute("SHOW track_commit_timestamp").fetchone()[0] != "on":
            conn.execute("ALTER SYSTEM SET track_commit_timestamp = on")
            sys.exit("track_commit_timestamp was off: set now, restart PostgreSQL (stack/stackctl down && up), rerun")
    if _exists(TGT_NATIVE):  # an earlier run's subscription: drop it without its slot, then the slot below
        with psycopg.connect(dsn(TGT_NATIVE), autocommit=True) as conn:
            for (sub,) in conn.execute("SELECT subname FROM pg_subscription").fetchall():
                conn.execute(f"ALTER SUBSCRIPTION {sub} DISABLE")
                conn.execute(f"ALTER SUBSCRIPTION {sub} SET (slot_name = NONE)")
                conn.execute(f"DROP SUBSCRIPTION {sub}")
    with psycopg.connect(dsn("postgres"), autocommit=True) as conn:
        deadline = time.monotonic() + 30
        while slots := conn.execute("SELECT slot_name, active_pid FROM pg_replication_slots WHERE slot_name = %s",
                                    (NATIVE_SLOT,)).fetchall():
            if slots[0][1]:
                conn.execute("SELECT pg_terminate_backend(%s)", (slots[0][1],))
            try:
                conn.execute("SELECT pg_drop_replication_slot(%s)", (NATIVE_SLOT,))
            except psycopg.errors.ObjectInUse:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
    for db in (SRC, TGT_CDCFLOW, TGT_NATIVE):
        recreate(db)
    # The stack's cluster runs synchronous_commit = off (disposable data, stackctl). A WAL sender only sends WAL that
    # is flushed, and with asynchronous commits the WAL writer flushes every wal_writer_delay (200 ms): every change
    # then waits ~100-200 ms before either replication path can see it. A production source commits synchronously
    # (PostgreSQL's default), so by default the source database does here too; both paths read the same WAL.
    with psycopg.connect(dsn("postgres"), autocommit=True) as conn:
        conn.execute(f"ALTER DATABASE {SRC} SET synchronous_commit = {source_commit}")
    for db in (SRC, TGT_NATIVE):
        with psycopg.connect(dsn(db), autocommit=True) as conn:
            conn.execute("CREATE SCHEMA bench")
            for t in TABLES:
                conn.execute(DDL.format(t=t))
    with psycopg.connect(dsn(SRC), autocommit=True) as conn:
        conn.execute("CREATE PUBLICATION bench_native FOR TABLE " + ", ".join(f"bench.{t}" for t in TABLES))
        # CREATE SUBSCRIPTION would wait on itself creating a slot in the same cluster: make the slot here first.
        conn.execute("SELECT pg_create_logical_replication_slot(%s, 'pgoutput')", (NATIVE_SLOT,))
    u = urlsplit(os.environ["PG_SUPERUSER_DSN"])
    with psycopg.connect(dsn(TGT_NATIVE), autocommit=True) as conn:
        conn.execute(f"CREATE SUBSCRIPTION bench_native CONNECTION 'host={u.hostname} port={u.port} dbname={SRC} "
                     f"user={u.username} password={u.password}' PUBLICATION bench_native "
                     f"WITH (create_slot = false, slot_name = '{NATIVE_SLOT}', copy_data = false)")


def _exists(db: str) -> bool:
    with psycopg.connect(dsn("postgres")) as conn:
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

DAEMONS = ("connect", "kafka", "api")


def cpu_seconds() -> dict[str, float]:
    """CPU time used so far by the stack's daemons (from their pid files): on a machine shared with other work,
    CPU per change is the figure a setting changes, where wall-clock times mostly show the scheduler."""
    run_dir = Path(os.environ.get("CDCFLOW_STACK_DIR", REPO / ".stack")) / "run"
    used = {}
    for name in DAEMONS:
        try:
            pid = (run_dir / f"{name}.pid").read_text().strip()
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            used[name] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            continue
    return used


def cpu_per_change(before: dict[str, float], changes: int) -> dict[str, float]:
    after = cpu_seconds()
    return {f"{k}_cpu_ms_per_change": round((after[k] - before[k]) * 1000 / changes, 3) for k in after if k in before}


# ------------------------------------------------------------------------------------------------ latency

def commit_times(db: str, table: str, lo: int, hi: int) -> dict[int, float]:
    """Commit time (epoch ms) of the transaction that wrote each row's current version."""
    with psycopg.connect(dsn(db)) as conn:
        rows = conn.execute(f"SELECT id, extract(epoch FROM pg_xact_commit_timestamp(xmin)) * 1000 FROM bench.{table} "
                            "WHERE id BETWEEN %s AND %s", (lo, hi)).fetchall()
    return {r[0]: float(r[1]) for r in rows if r[1] is not None}


def wait_rows(db: str, table: str, where: str, expected: int, timeout: float) -> float | None:
    """Seconds until `where` holds for `expected` rows, or None at the deadline."""
    started, deadline = time.monotonic(), time.monotonic() + timeout
    with psycopg.connect(dsn(db), autocommit=True) as conn:
        while time.monotonic() < deadline:
            if conn.execute(f"SELECT count(*) FROM bench.{table} WHERE {where}").fetchone()[0] >= expected:
                return time.monotonic() - started
            time.sleep(0.2)
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

    def run(self) -> None:
        with psycopg.connect(dsn(self.db), autocommit=True) as conn:
            deadline = time.monotonic() + 600
            while not self.stop.is_set() and time.monotonic() < deadline:
                top = conn.execute(f"SELECT max(id) FROM bench.{LAT} WHERE id BETWEEN %s AND %s",
                                   (self.lo, self.hi)).fetchone()[0]
                now = time.time() * 1000
                if top is not None and (not self.seen or top > self.seen[-1][1]):
                    self.seen.append((now, top))
                    if top >= self.hi:
                        return
                time.sleep(0.01)

    def visible_at(self) -> dict[int, float]:
        out, prev = {}, self.lo - 1
        for at, top in self.seen:
            for i in range(prev + 1, top + 1):
                out[i] = at
            prev = top
        return out


def write_singles(rate: int, seconds: float, first_id: int) -> tuple[int, float]:
    """Single-row autocommit inserts on a fixed schedule; returns (rows, achieved rate)."""
    n = int(rate * seconds)
    with psycopg.connect(dsn(SRC), autocommit=True) as conn:
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
    with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
        rows = conn.execute("""SELECT (run_metadata->'key'->>'id')::bigint, extract(epoch FROM started_at) * 1000
            FROM pipeline_runs WHERE pipeline_id = %s AND table_name = %s AND run_type = 'CDC'
              AND (run_metadata->'key'->>'id')::bigint BETWEEN %s AND %s""",
                            (pipeline_id, f"bench.{LAT}", lo, hi)).fetchall()
    return {r[0]: float(r[1]) for r in rows}


def latency_phase(rate: int, seconds: float, first_id: int, pipeline: dict, socket: SocketWatch | None) -> dict:
    print(f"latency: {rate} commits/s for {seconds:.0f} s ...", flush=True)
    lo, hi = first_id, first_id + int(rate * seconds) - 1
    watchers = {db: Visibility(db, lo, hi) for db in (TGT_CDCFLOW, TGT_NATIVE)}
    for w in watchers.values():
        w.start()
    cpu_before = cpu_seconds()
    n, achieved = write_singles(rate, seconds, first_id)
    written = time.monotonic()
    for w in watchers.values():
        w.join(max(1.0, LATENCY_WAIT - (time.monotonic() - written)))
        w.stop.set()
    cut_off = time.time() * 1000
    source = commit_times(SRC, LAT, lo, hi)
    result = {"rate": rate, "seconds": seconds, "rows": n, "achieved_rate": round(achieved), "methods": {}}
    for name, db in (("cdcflow", TGT_CDCFLOW), ("native", TGT_NATIVE)):
        visible = watchers[db].visible_at()
        # A row still missing at the cut-off counts with the time it had waited by then: a lower bound, so the
        # percentiles never look better than they were.
        late = [cut_off - source[i] for i in source if i not in visible]
        result["methods"][name] = {**summary([visible[i] - source[i] for i in visible if i in source] + late),
                                   "rows_missing_at_cutoff": len(late)}
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
    result["cpu"] = cpu_per_change(cpu_before, n)
    print(f"  CPU per change: {result['cpu']}", flush=True)
    for name, m in result["methods"].items():
        print(f"  {name:8s} p50 {m['p50_ms']} ms  p99 {m['p99_ms']} ms  ({m['count']} rows)", flush=True)
    for stage, s in stages.items():
        print(f"    {stage:42s} p50 {s['p50_ms']}  p99 {s['p99_ms']}  n={s['count']}", flush=True)
    return result


# ------------------------------------------------------------------------------------------------ burst

def burst_phase(tables: list[str], base_id: int, logged_before: int, burst_timeout: float) -> dict:
    label = f"{len(tables)} table{'s' if len(tables) > 1 else ''}"
    print(f"burst: 300,000 changes over {label} ...", flush=True)
    per_table_inserts = 200_000 // len(tables)
    per_table_updates = 100_000 // len(tables)
    cpu_before = cpu_seconds()
    with psycopg.connect(dsn(SRC), autocommit=True) as conn:
        started_wall = time.time() * 1000
        for i in range(20):  # 20 transactions of 10k rows, round robin over the tables
            t = tables[i % len(tables)]
            lo = base_id + (i // len(tables)) * 10_000
            conn.execute(f"""INSERT INTO bench.{t} (id, amount, status, created_at, note)
                SELECT g, (g % 100000) / 100.0, 'new', now(), repeat(md5(g::text), 3)
                FROM generate_series({lo}, {lo + 9_999}) g""")
        with conn.transaction():  # one transaction updating 100k rows
            for t in tables:
                conn.execute(f"UPDATE bench.{t} SET v = 1, status = 'paid' WHERE id < {base_id + per_table_updates}")
        source_done = time.time() * 1000
    first_commit = started_wall  # drain time counts from the burst's first statement
    result = {"tables": len(tables), "changes": 300_000, "source_write_seconds": round((source_done - started_wall) / 1000, 2),
              "methods": {}}
    expected = fingerprint(SRC, tables, base_id)
    done: dict[str, float | None] = {}

    deadline = time.monotonic() + burst_timeout

    def watch(name: str, db: str) -> None:
        waited = [wait_rows(db, t, f"id >= {base_id} AND id < {base_id + per_table_inserts} AND "
                                   f"(v = 1 OR id >= {base_id + per_table_updates})", per_table_inserts,
                            max(1.0, deadline - time.monotonic()))
                  for t in tables]
        done[name] = None if None in waited else max(waited)

    threads = [threading.Thread(target=watch, args=(n, db)) for n, db in (("cdcflow", TGT_CDCFLOW),
                                                                           ("native", TGT_NATIVE))]
    for th in threads:
        th.start()
    logger_done = wait_logged(tables, logged_before + 300_000, max(1.0, deadline - time.monotonic()))
    for th in threads:
        th.join()
    for name, db in (("cdcflow", TGT_CDCFLOW), ("native", TGT_NATIVE)):
        with psycopg.connect(dsn(db)) as conn:
            last = conn.execute("SELECT max(extract(epoch FROM pg_xact_commit_timestamp(xmin))) * 1000 FROM ("
                                + " UNION ALL ".join(f"SELECT xmin FROM bench.{t} WHERE id >= {base_id}" for t in tables)
                                + ") s").fetchone()[0]
        seconds = (float(last) - first_commit) / 1000 if done[name] is not None and last else None
        entry = {"drain_seconds": round(seconds, 2) if seconds else None,
                 "changes_per_second": round(300_000 / seconds) if seconds else None}
        if seconds is None:  # not drained by the deadline: how far it got (a lower bound of its rate)
            with psycopg.connect(dsn(db)) as conn:
                applied = sum(conn.execute(f"SELECT count(*) + count(*) FILTER (WHERE v = 1) FROM bench.{t}")
                              .fetchone()[0] for t in tables)
            entry |= {"applied_at_deadline": applied, "deadline_seconds": burst_timeout,
                      "changes_per_second_at_most": round(applied / burst_timeout)}
        entry["target_equals_source"] = fingerprint(db, tables, base_id) == expected
        result["methods"][name] = entry
        print(f"  {name:8s} {result['methods'][name]}", flush=True)
    result["cpu"] = cpu_per_change(cpu_before, 300_000)
    print(f"  CPU per change: {result['cpu']}", flush=True)
    result["event_log_complete_seconds"] = round((logger_done - first_commit) / 1000, 2) if logger_done else None
    print(f"  event log complete after {result['event_log_complete_seconds']} s", flush=True)
    return result


def wait_logged(tables: list[str], expected: int, timeout: float = 600) -> float | None:
    """Epoch ms at which the event log's trigger-kept counters held `expected` events of these tables."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
        while time.monotonic() < deadline:
            if logged(conn, tables) >= expected:
                return time.time() * 1000
            time.sleep(0.2)
    return None


def logged(conn, tables: list[str]) -> int:
    return int(conn.execute("SELECT coalesce(sum(events), 0) FROM pipeline_event_totals WHERE table_name = ANY(%s)",
                            ([f"bench.{t}" for t in tables],)).fetchone()[0])


def fingerprint(db: str, tables: list[str], base_id: int = 0) -> list:
    with psycopg.connect(dsn(db)) as conn:
        return [conn.execute(f"SELECT count(*), md5(string_agg(md5(t::text), '' ORDER BY id)) FROM bench.{t} t "
                             f"WHERE id >= {base_id}").fetchone() for t in tables]


# ------------------------------------------------------------------------------------------------ main

def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--rates", default="100,1000")
    parser.add_argument("--skip-burst", action="store_true")
    parser.add_argument("--warmup-seconds", type=float, default=15)
    parser.add_argument("--burst-timeout", type=float, default=150, help="seconds one burst may take to drain")
    parser.add_argument("--source-commit", choices=["on", "off"], default="on",
                        help="synchronous_commit of the source database (on: PostgreSQL's default)")
    parser.add_argument("--label", default="", help="what this run's configuration is (kept in the results)")
    parser.add_argument("--out", default=str(REPO / "bench" / "results" / "cdc"))
    args = parser.parse_args()
    load_stack_env()
    run_started = time.monotonic()
    api = Api()
    api.remove_old()
    setup_databases(args.source_commit)
    print("starting the cdcflow pipeline ...", flush=True)
    pipeline = api.start_pipeline()
    # Warm-up: a freshly started Connect worker runs interpreted Java for its first thousands of records (JIT
    # compilation takes minutes on a busy 2-core machine); measure the stream warm, as it runs for days.
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

    report = {"when": datetime.now(UTC).isoformat(timespec="seconds"), "machine": f"{os.cpu_count()} cores",
              "label": args.label, "source_synchronous_commit": args.source_commit,
              "load_average_at_start": os.getloadavg()[0], "latency": [], "burst": []}
    next_id = 1
    for rate in [int(r) for r in args.rates.split(",")]:
        report["latency"].append(latency_phase(rate, args.seconds, next_id, pipeline, socket))
        next_id += int(rate * args.seconds) + 1
        save(report, args.out)
    if socket is not None:
        socket.close()
    report["api_latency_endpoint"] = api.http.get(f"/api/v1/monitoring/pipelines/{pipeline['id']}/latency").json()
    if not args.skip_burst:
        for tables in (BURST_ONE, BURST_FOUR):
            with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
                before = logged(conn, tables)
            report["burst"].append(burst_phase(tables, 1, before, args.burst_timeout))
            save(report, args.out)
    report["total_seconds"] = round(time.monotonic() - run_started)
    save(report, args.out)
    print(f"done in {report['total_seconds']} s -> {args.out}.json / .md", flush=True)
    ok = all(m["target_equals_source"] for b in report["burst"] for m in b["methods"].values())
    return 0 if ok else 1


def save(report: dict, out: str) -> None:
    """After every phase: a run cut short still leaves what it measured."""
    report["load_average_at_end"] = os.getloadavg()[0]
    Path(out + ".json").write_text(json.dumps(report, indent=2, default=str) + "\n")
    Path(out + ".md").write_text(markdown(report))


def markdown(r: dict) -> str:
    def ms(s: dict) -> str:
        if s.get("p50_ms") is None:
            return "not observed"
        late = s.get("rows_missing_at_cutoff")
        return (f"p50 {s['p50_ms']:,.0f} ms, p99 {s['p99_ms']:,.0f} ms"
                + (f" ({late:,} rows not there {LATENCY_WAIT} s after the last commit: counted as ≥ their wait)"
                   if late else ""))

    lines = [f"# CDC: cdcflow vs native logical replication ({r['when']})", "",
             f"{r['machine']}, load average {r['load_average_at_start']:.1f} at start, "
             f"{r['load_average_at_end']:.1f} at end; source database synchronous_commit = "
             f"{r.get('source_synchronous_commit', 'off')}. {r['label']}", "",
             "| what | cdcflow | native logical replication |", "|---|---|---|"]
    for lat in r["latency"]:
        m = lat["methods"]
        lines.append(f"| commit → row visible on target, {lat['rate']:,} single-row commits/s for "
                     f"{lat['seconds']:.0f} s (achieved {lat['achieved_rate']:,}/s) | {ms(m['cdcflow'])} | "
                     f"{ms(m['native'])} |")
    for b in r["burst"]:
        m = b["methods"]

        def drain(x: dict) -> str:
            if x["drain_seconds"] is None:
                return (f"not drained in {x['deadline_seconds']:.0f} s: {x['applied_at_deadline']:,} applied "
                        f"(≤ {x['changes_per_second_at_most']:,}/s), equal: {x['target_equals_source']}")
            return f"{x['drain_seconds']} s ({x['changes_per_second']:,}/s), equal: {x['target_equals_source']}"

        lines.append(f"| 300,000 changes in a burst (20 × 10k-row inserts, then one 100k-row UPDATE), "
                     f"{b['tables']} table(s) | {drain(m['cdcflow'])} | {drain(m['native'])} |")
    lines += ["", "cdcflow's latency by stage (per row; commit times from pg_xact_commit_timestamp):", "",
              "| rate | stage | p50 ms | p99 ms | rows |", "|---|---|---|---|---|"]
    for lat in r["latency"]:
        for stage, s in lat["cdcflow_stages"].items():
            lines.append(f"| {lat['rate']:,}/s | {stage} | {s['p50_ms']} | {s['p99_ms']} | {s['count']} |")
    lines += ["", "CPU per change (ms) of the stack's daemons during each phase (Connect runs Debezium and the JDBC sink; "
              "the API runs the event logger):", "", "| phase | " + " | ".join(DAEMONS) + " |",
              "|---|" + "---|" * len(DAEMONS)]
    for phase, cpu in [(f"{x['rate']:,} commits/s", x.get("cpu", {})) for x in r["latency"]] + \
            [(f"burst, {x['tables']} table(s)", x.get("cpu", {})) for x in r["burst"]]:
        lines.append(f"| {phase} | " + " | ".join(str(cpu.get(f"{d}_cpu_ms_per_change", "–")) for d in DAEMONS) + " |")
    for b in r["burst"]:
        lines.append(f"\nBurst over {b['tables']} table(s): event log complete "
                     f"{b['event_log_complete_seconds']} s after the first source commit.")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
