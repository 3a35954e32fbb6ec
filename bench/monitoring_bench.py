"""Monitoring at scale: 10 million CDC events across 20 pipelines, then p50/p95 over HTTP of the dashboard, the
metrics, the first and a deep page of events and one row's history, side by side with the seed's plain aggregation query.

    make bench-monitoring      (or: backend/.venv/bin/python bench/monitoring_bench.py --events 10000000)

Runs against a private copy of the metadata database (bench_meta) and a private API process, so nothing of the
product's own data is touched. Writes bench/results/monitoring.json and .md.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psycopg

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
from common import load_stack_env  # noqa: E402
CLI = REPO / "backend" / ".venv" / "bin" / "cdcflow"
PORT = int(os.environ.get("BENCH_API_PORT", "8099"))
SEED_QUERY = """
SELECT CASE WHEN run_metadata->>'event_type' IN ('insert', 'i', 'c', 'create', 'r') THEN 'insert'
            WHEN run_metadata->>'event_type' IN ('update', 'u') THEN 'update'
            WHEN run_metadata->>'event_type' IN ('delete', 'd', 'remove') THEN 'delete' END AS event_type,
       count(*)
FROM pipeline_runs WHERE run_type = 'CDC' AND deleted_at IS NULL GROUP BY 1
"""




def fill(dsn: str, events: int, pipelines: int, chunk: int = 500_000) -> float:
    started = time.monotonic()
    with psycopg.connect(dsn, autocommit=True) as conn:
        source = conn.execute(
            "INSERT INTO connections (name, connection_type, database_type, host, port, database, username, "
            "password_encrypted) VALUES ('bench', 'source', 'postgresql', '127.0.0.1', 5432, 'b', 'b', 'v1:x:x') "
            "RETURNING id").fetchone()[0]
        ids = [conn.execute("INSERT INTO pipelines (name, source_connection_id, target_connection_id, mode, status) "
                            "VALUES (%s, %s, %s, 'cdc_only', 'RUNNING') RETURNING id",
                            (f"bench-{i:02d}", source, source)).fetchone()[0] for i in range(pipelines)]
        conn.execute("CREATE TEMP TABLE bench_pipelines (n int, id uuid)")
        for n, pid in enumerate(ids):
            conn.execute("INSERT INTO bench_pipelines VALUES (%s, %s)", (n, pid))
        for lo in range(0, events, chunk):
            hi = min(events, lo + chunk)
            conn.execute(f"""
                INSERT INTO pipeline_runs (pipeline_id, run_type, status, event_type, table_name, source_lsn,
                    latency_ms, kafka_topic, kafka_partition, kafka_offset, started_at, completed_at, run_metadata,
                    row_key, source_key)
                SELECT p.id, 'CDC', 'captured', e.kind, 'public.table_' || (g % 10), g * 128, 5 + g % 400,
                       'bench.' || p.id || '.public.table_' || (g % 10), 0, g,
                       now() - ((({events} - g) * 2592000.0 / {events}) * interval '1 second'),
                       now() - ((({events} - g) * 2592000.0 / {events}) * interval '1 second'),
                       jsonb_build_object('op', e.op, 'event_type', e.kind, 'after', jsonb_build_object('id', g),
                                          'key', jsonb_build_object('id', g / 200)),
                       -- what the event logger writes beside run_metadata: the row's key and the source identity
                       jsonb_build_object('id', g / 200), md5('bench|' || g)::uuid
                FROM generate_series({lo}, {hi - 1}) g
                JOIN bench_pipelines p ON p.n = g % {pipelines}
                CROSS JOIN LATERAL (SELECT CASE WHEN g % 10 < 6 THEN 'insert' WHEN g % 10 < 9 THEN 'update'
                                                ELSE 'delete' END AS kind,
                                           CASE WHEN g % 10 < 6 THEN 'c' WHEN g % 10 < 9 THEN 'u' ELSE 'd' END AS op) e
            """)
            print(f"  {hi:,} events", flush=True)
        conn.execute("VACUUM ANALYZE pipeline_runs")
    return time.monotonic() - started


def timed(fn, n: int) -> dict:
    fn()  # warm
    samples = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    samples.sort()
    return {"p50_ms": round(statistics.median(samples), 2), "p95_ms": round(samples[int(len(samples) * 0.95) - 1], 2),
            "max_ms": round(samples[-1], 2), "n": n}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--pipelines", type=int, default=20)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--out", default=str(REPO / "bench" / "results" / "monitoring"))
    parser.add_argument("--keep", action="store_true", help="keep the bench_meta database for inspection")
    args = parser.parse_args()
    load_stack_env()
    admin_dsn = os.environ["PG_SUPERUSER_DSN"]
    base = os.environ["DATABASE_URL"].rsplit("/", 1)[0]
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS bench_meta WITH (FORCE)")
        conn.execute("CREATE DATABASE bench_meta OWNER cdcflow")
    dsn = base + "/bench_meta"
    env = {**os.environ, "DATABASE_URL": dsn, "RUN_BACKGROUND_SERVICES": "false", "EVENT_LOGGER_ENABLED": "false",
           "CDCFLOW_ADMIN_PASSWORD": "bench-admin-password"}
    subprocess.run([str(CLI), "migrate"], env=env, check=True, capture_output=True)
    subprocess.run([str(CLI), "create-admin"], env=env, check=True, capture_output=True)
    print(f"filling {args.events:,} events over {args.pipelines} pipelines ...", flush=True)
    fill_seconds = fill(dsn, args.events, args.pipelines)
    server = subprocess.Popen([str(CLI), "serve", "--port", str(PORT), "--log-level", "warning"], env=env)
    try:
        api = f"http://127.0.0.1:{PORT}"
        for _ in range(100):
            try:
                if httpx.get(f"{api}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        token = httpx.post(f"{api}/api/v1/auth/login", json={"username": os.environ.get("CDCFLOW_ADMIN_USER", "admin"),
                                                               "password": "bench-admin-password"}).json()
        http = httpx.Client(base_url=api, headers={"Authorization": f"Bearer {token['access_token']}"}, timeout=30)
        with psycopg.connect(dsn) as conn:
            pid = str(conn.execute("SELECT id FROM pipelines ORDER BY name LIMIT 1").fetchone()[0])
            deep = conn.execute("SELECT id FROM pipeline_runs ORDER BY id LIMIT 1 OFFSET %s",
                                (args.events // 2,)).fetchone()[0]
            seed_rows = dict(conn.execute(SEED_QUERY).fetchall())
        dash = http.get("/api/v1/monitoring/dashboard").json()
        same = (dash["insert_count"], dash["update_count"], dash["delete_count"]) == \
            (seed_rows.get("insert", 0), seed_rows.get("update", 0), seed_rows.get("delete", 0))

        def get(path, **params):
            return lambda: http.get(path, params=params).raise_for_status()

        results = {
            "GET /monitoring/dashboard": timed(get("/api/v1/monitoring/dashboard"), args.requests),
            "GET /monitoring/dashboard?pipeline_id": timed(get("/api/v1/monitoring/dashboard", pipeline_id=pid),
                                                            args.requests),
            "GET /monitoring/metrics": timed(get("/api/v1/monitoring/metrics"), args.requests),
            "GET /monitoring/metrics?pipeline_id": timed(get("/api/v1/monitoring/metrics", pipeline_id=pid),
                                                          args.requests),
            "GET /monitoring/events (first page)": timed(get("/api/v1/monitoring/events", limit=100),
                                                         args.requests),
            "GET /monitoring/events (page at 5M)": timed(get("/api/v1/monitoring/events", limit=100,
                                                             before_id=deep), args.requests),
            "GET /monitoring/events?pipeline_id (first page)": timed(
                get("/api/v1/monitoring/events", limit=100, pipeline_id=pid), args.requests),
        }
        # Row history: one row's timeline (each key has 10 events in its pipeline and table) at full log size.
        key = args.events // 400
        history = http.get(f"/api/v1/pipelines/{pid}/row-history", params={"table": "public.table_0",
                                                                            "key": str(key)}).json()
        assert len(history["items"]) == 10, history
        results["GET /pipelines/{id}/row-history"] = timed(
            get(f"/api/v1/pipelines/{pid}/row-history", table="public.table_0", key=str(key)), args.requests)
        seed_n = max(3, args.requests // 10)
        with psycopg.connect(dsn) as conn:
            results["seed aggregation query (SQL, no HTTP)"] = timed(lambda: conn.execute(SEED_QUERY).fetchall(),
                                                                     seed_n)
    finally:
        server.terminate()
        server.wait(20)
    for name, r in results.items():
        print(f"{name:50s} p50 {r['p50_ms']:9.2f} ms   p95 {r['p95_ms']:9.2f} ms", flush=True)
    report = {"when": datetime.now(UTC).isoformat(timespec="seconds"), "events": args.events,
              "pipelines": args.pipelines, "fill_seconds": round(fill_seconds, 1),
              "dashboard_equals_seed_query": same, "results": results}
    Path(args.out + ".json").write_text(json.dumps(report, indent=2) + "\n")
    lines = [f"# Monitoring at {args.events:,} events ({report['when']})", "",
             f"{args.pipelines} pipelines, events spread over 30 days; {args.requests} requests per endpoint over "
             f"HTTP (seed query: {seed_n} runs). Dashboard equals the seed query: {same}.", "",
             "| what | p50 ms | p95 ms | max ms |", "|---|---|---|---|"]
    lines += [f"| {k} | {v['p50_ms']} | {v['p95_ms']} | {v['max_ms']} |" for k, v in results.items()]
    Path(args.out + ".md").write_text("\n".join(lines) + "\n")
    if not args.keep:
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS bench_meta WITH (FORCE)")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
