"""Pipelines per Connect worker: how many small pipelines one Connect worker carries before lag rises.

    make bench-connect-capacity      (or: backend/.venv/bin/python bench/connect_capacity_bench.py --steps 1,2,4,8)

Needs the stack and the API (`stack/stackctl up && stack/stackctl api-up`). Each pipeline is CDC-only over one small
table of its own (a source connector, a sink connector and a replication slot each: the real per-pipeline cost). At
each step the number of running pipelines grows to N, then every pipeline gets the same steady writer (`--rate`
single-row commits/s each) for `--seconds`, and commit -> row visible on the target is measured per row (a poller
reads each target table's highest id every ~50 ms; rows of a table arrive in commit order). The run stops at the
first step whose p99 passes `--limit-ms`, or whose pipelines cannot all start. Results per step: p50/p99 latency,
the Connect workers' CPU per second, and how the tasks spread over the workers; written to
bench/results/connect_capacity.{json,md}.
"""

import argparse
import json
import os
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
from cdc_bench import Api, dsn, pct, recreate  # noqa: E402
from common import load_stack_env  # noqa: E402

SRC, TGT = "bench_cap_src", "bench_cap_tgt"
DDL = "CREATE TABLE bench.{t} (id bigint PRIMARY KEY, v integer NOT NULL DEFAULT 0, note text)"


def table(n: int) -> str:
    return f"p{n:03d}"


def connect_cpu_seconds() -> float:
    """CPU time used so far by every Connect worker of the stack (pid files connect*.pid)."""
    used = 0.0
    for pid_file in (Path(os.environ["CDCFLOW_STACK_DIR"]) / "run").glob("connect*.pid"):
        try:
            fields = Path(f"/proc/{pid_file.read_text().strip()}/stat").read_text().rsplit(")", 1)[1].split()
            used += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            continue
    return used


def task_spread(connect_url: str) -> dict[str, int]:
    """Running tasks per worker, as Connect reports them."""
    auth = None
    if os.environ.get("KAFKA_CONNECT_USER"):
        password = os.environ.get("KAFKA_CONNECT_PASSWORD") or ""
        if not password and os.environ.get("KAFKA_CONNECT_PASSWORD_FILE"):
            password = Path(os.environ["KAFKA_CONNECT_PASSWORD_FILE"]).read_text().strip()
        auth = (os.environ["KAFKA_CONNECT_USER"], password)
    status = httpx.get(f"{connect_url}/connectors", params={"expand": "status"}, auth=auth, timeout=30).json()
    spread: dict[str, int] = {}
    for item in status.values():
        for task in item["status"]["tasks"]:
            if task["state"] == "RUNNING":
                spread[task["worker_id"]] = spread.get(task["worker_id"], 0) + 1
    return spread


class Writer(threading.Thread):
    """`rate` single-row autocommit inserts per second into each table, round robin; records when each committed."""

    def __init__(self, tables: list[str], rate: float, seconds: float, first_id: int) -> None:
        super().__init__(daemon=True)
        self.tables, self.rate, self.seconds, self.first_id = tables, rate, seconds, first_id
        self.committed: dict[str, dict[int, float]] = {t: {} for t in tables}
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            total = int(self.rate * self.seconds) * len(self.tables)
            interval = 1 / (self.rate * len(self.tables))
            with psycopg.connect(dsn(SRC), autocommit=True) as conn:
                started = time.monotonic()
                for i in range(total):
                    if (delay := started + i * interval - time.monotonic()) > 0:
                        time.sleep(delay)
                    t, row_id = self.tables[i % len(self.tables)], self.first_id + i // len(self.tables)
                    conn.execute(f"INSERT INTO bench.{t} (id, note) VALUES (%s, 'cap')", (row_id,))
                    self.committed[t][row_id] = time.time() * 1000
        except BaseException as exc:  # reported by the main thread
            self.error = exc


def visibility(tables: list[str], lo: int, expected: int, timeout: float) -> dict[str, list[tuple[float, int]]]:
    """(time, highest id) per table each time it grew, until every table holds ids up to lo + expected - 1."""
    seen: dict[str, list[tuple[float, int]]] = {t: [] for t in tables}
    query = " UNION ALL ".join(f"SELECT '{t}', max(id) FROM bench.{t} WHERE id >= {lo}" for t in tables)
    deadline = time.monotonic() + timeout
    with psycopg.connect(dsn(TGT), autocommit=True) as conn:
        while time.monotonic() < deadline:
            now = time.time() * 1000
            done = True
            for t, top in conn.execute(query).fetchall():
                if top is not None and (not seen[t] or top > seen[t][-1][1]):
                    seen[t].append((now, top))
                done = done and top is not None and top >= lo + expected - 1
            if done:
                break
            time.sleep(0.05)
    return seen


def latencies(committed: dict[str, dict[int, float]], seen: dict[str, list[tuple[float, int]]]) -> tuple[list, int]:
    out, missing = [], 0
    for t, rows in committed.items():
        growth = seen[t]
        for row_id, at in rows.items():
            shown = next((when for when, top in growth if top >= row_id), None)
            if shown is None:
                missing += 1
            else:
                out.append(max(0.0, shown - at))
    return out, missing


def setup() -> None:
    for db in (SRC, TGT):
        recreate(db)
    with psycopg.connect(dsn(SRC), autocommit=True) as conn:
        conn.execute("CREATE SCHEMA bench")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", default="1,2,4,8,12,16,24")
    parser.add_argument("--rate", type=float, default=5.0, help="commits/s per pipeline")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--limit-ms", type=float, default=5000, help="stop once p99 commit -> target passes this")
    parser.add_argument("--out", default=str(REPO / "bench" / "results" / "connect_capacity"))
    args = parser.parse_args()
    load_stack_env()
    steps = [int(s) for s in args.steps.split(",")]
    workers = [u for u in (os.environ.get("KAFKA_CONNECT_URLS") or os.environ["KAFKA_CONNECT_URL"]).split(",") if u]
    api = Api()
    api.remove_old()
    for c in api.call("GET", "/connections", 200, params={"limit": 200})["items"]:
        if c["name"].startswith("cap-"):
            api.http.delete(f"/api/v1/connections/{c['id']}")
    setup()
    u = urlsplit(os.environ["PG_SUPERUSER_DSN"])

    def connection(kind: str, db: str) -> str:
        return api.call("POST", "/connections", 201, json={
            "name": f"cap-{kind}-{uuid.uuid4().hex[:6]}", "connection_type": kind, "database_type": "postgresql",
            "host": u.hostname, "port": u.port, "database": db, "username": u.username, "password": u.password})["id"]

    source, target = connection("source", SRC), connection("target", TGT)
    pipelines: list[str] = []
    results: list[dict] = []
    first_id = 1
    stopped_because = f"all steps up to {steps[-1]} pipelines ran"
    try:
        for n in steps:
            print(f"step: {n} pipelines ...", flush=True)
            start_failed = None
            while len(pipelines) < n and start_failed is None:
                k = len(pipelines)
                with psycopg.connect(dsn(SRC), autocommit=True) as conn:
                    conn.execute(DDL.format(t=table(k)))
                p = api.call("POST", "/pipelines", 201, json={
                    "name": f"bench-cdc-cap-{k:03d}-{uuid.uuid4().hex[:4]}", "mode": "cdc_only",
                    "source_connection_id": source, "target_connection_id": target, "tables": [f"bench.{table(k)}"]})
                pipelines.append(p["id"])
                api.call("POST", f"/pipelines/{p['id']}/start", 202)
                try:
                    api.wait(p["id"], "RUNNING", 300)
                except RuntimeError as exc:
                    start_failed = str(exc)
            if start_failed:
                stopped_because = f"pipeline {len(pipelines)} did not start: {start_failed}"
                break
            tables = [table(k) for k in range(n)]
            cpu_before, t0 = connect_cpu_seconds(), time.monotonic()
            writer = Writer(tables, args.rate, args.seconds, first_id)
            writer.start()
            expected = int(args.rate * args.seconds)
            seen = visibility(tables, first_id, expected, args.seconds + 300)
            writer.join()
            if writer.error:
                raise writer.error
            cpu = (connect_cpu_seconds() - cpu_before) / (time.monotonic() - t0)
            values, missing = latencies(writer.committed, seen)
            step = {"pipelines": n, "pipelines_per_worker": round(n / len(workers), 2),
                    "changes_per_second": round(args.rate * n, 1), "p50_ms": pct(values, 0.5),
                    "p99_ms": pct(values, 0.99), "max_ms": round(max(values), 1) if values else None,
                    "rows": len(values), "missing": missing, "connect_cpu_per_second": round(cpu, 2),
                    "tasks_per_worker": task_spread(workers[0]),
                    "load_average_1m": round(os.getloadavg()[0], 1)}
            results.append(step)
            print(f"  {n} pipelines: p50 {step['p50_ms']} ms, p99 {step['p99_ms']} ms, missing {missing}, "
                  f"Connect CPU {step['connect_cpu_per_second']} core-s/s, load {step['load_average_1m']}",
                  flush=True)
            first_id += expected
            if missing or (step["p99_ms"] or 0) > args.limit_ms:
                stopped_because = (f"at {n} pipelines the p99 passed {args.limit_ms:.0f} ms" if not missing else
                                   f"at {n} pipelines {missing} rows did not reach the target in time")
                break
    finally:
        api.remove_old()
        for c in api.call("GET", "/connections", 200, params={"limit": 200})["items"]:
            if c["name"].startswith("cap-"):
                api.http.delete(f"/api/v1/connections/{c['id']}")
    report = {"when": datetime.now(UTC).isoformat(timespec="seconds"), "connect_workers": len(workers),
              "rate_per_pipeline": args.rate, "seconds": args.seconds, "limit_ms": args.limit_ms,
              "cores": os.cpu_count(), "steps": results, "stopped": stopped_because}
    Path(args.out + ".json").write_text(json.dumps(report, indent=2) + "\n")
    Path(args.out + ".md").write_text(markdown(report))
    print(f"{stopped_because} -> {args.out}.json", flush=True)
    return 0


def markdown(r: dict) -> str:
    lines = [f"# Pipelines per Connect worker ({r['when']})", "",
             f"{r['connect_workers']} Connect worker(s), each pipeline CDC-only on one small table of its own (a "
             f"Debezium source, a JDBC sink, a replication slot), a steady writer of {r['rate_per_pipeline']:g} "
             f"single-row commits/s per pipeline for {r['seconds']:g} s per step; commit -> row visible on the "
             f"target. {r['cores']} cores shared with PostgreSQL, Kafka, the API and anything else running.", "",
             "| pipelines | per worker | changes/s | p50 ms | p99 ms | max ms | Connect CPU (cores) | load avg |",
             "|---|---|---|---|---|---|---|---|"]
    for s in r["steps"]:
        lines.append(f"| {s['pipelines']} | {s['pipelines_per_worker']} | {s['changes_per_second']:g} | {s['p50_ms']} "
                     f"| {s['p99_ms']} | {s['max_ms']} | {s['connect_cpu_per_second']} | {s['load_average_1m']} |")
    lines += ["", f"Stopped: {r['stopped']}.", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
