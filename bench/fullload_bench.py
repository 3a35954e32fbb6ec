"""Full-load benchmark: cdcflow's parallel COPY stream vs `pg_dump -t | psql`, same table, same machine, one run.

    make bench-fullload            (or: backend/.venv/bin/python bench/fullload_bench.py --rows 2000000)

Builds a source table of --rows rows (~250 bytes each: 2M rows is ~500 MB), loads it into two empty target
databases, one per method, checks both equal the source (row count and an ordered hash of every row), and writes
the figures to bench/results/fullload.json and .md.
"""

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import psycopg

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
from common import load_stack_env  # noqa: E402
sys.path.insert(0, str(REPO / "backend" / "src"))

from cdcflow.engine.endpoints import DatabaseEndpoint  # noqa: E402
from cdcflow.engine.fullload.runner import LoadOptions, LoadTable, run_full_load  # noqa: E402
from cdcflow.engine.postgres.ddl import same_types  # noqa: E402
from cdcflow.engine.postgres.source import PostgresSource  # noqa: E402
from cdcflow.engine.postgres.target import PostgresTarget  # noqa: E402

TABLE = "public.bench_orders"




def dsn(db: str) -> str:
    return os.environ["PG_SUPERUSER_DSN"].rsplit("/", 1)[0] + "/" + db


def endpoint(db: str) -> DatabaseEndpoint:
    u = urlsplit(os.environ["PG_SUPERUSER_DSN"])
    return DatabaseEndpoint("postgresql", u.hostname, u.port, db, u.username, u.password, "public", "disable")


def recreate_database(name: str) -> None:
    with psycopg.connect(dsn("postgres"), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")


def build_source(rows: int) -> dict:
    recreate_database("bench_source")
    started = time.monotonic()
    with psycopg.connect(dsn("bench_source"), autocommit=True) as conn:
        conn.execute("""CREATE TABLE public.bench_orders (
            id bigint PRIMARY KEY, customer_id integer NOT NULL, amount numeric(12, 2) NOT NULL,
            status text NOT NULL, created_at timestamptz NOT NULL, attrs jsonb, note text)""")
        conn.execute(f"""INSERT INTO public.bench_orders
            SELECT g, ((g::bigint * 7919) % 100000)::int, (g % 100000) / 100.0, (ARRAY['new','paid','shipped','done'])[1 + g % 4],
                   timestamptz '2024-01-01' + g * interval '1 second',
                   jsonb_build_object('channel', 'web', 'items', g % 9, 'coupon', g % 5 = 0),
                   repeat(md5(g::text), 5)
            FROM generate_series(1, {rows}) g""")
        conn.execute("VACUUM ANALYZE public.bench_orders")
        size = conn.execute("SELECT pg_total_relation_size('public.bench_orders')").fetchone()[0]
    return {"rows": rows, "bytes": size, "seconds_to_build": round(time.monotonic() - started, 1)}


def fingerprint(db: str) -> tuple[int, str]:
    with psycopg.connect(dsn(db)) as conn:
        return conn.execute(f"SELECT count(*), md5(string_agg(md5(t::text), '' ORDER BY id)) FROM {TABLE} t"
                            ).fetchone()


def run_cdcflow(workers: int, split_rows: int) -> float:
    recreate_database("bench_target_cdcflow")
    started = time.monotonic()
    source, target = PostgresSource(endpoint("bench_source"), 10), PostgresTarget(endpoint("bench_target_cdcflow"), 10)
    tables, _ = source.read_tables([TABLE])
    targets = target.ensure_tables(tables)
    with psycopg.connect(dsn("bench_source")) as conn:
        estimate = conn.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", (TABLE,)
                                ).fetchone()[0]
    with source.plain_snapshot() as (_, snapshot):
        run_full_load(endpoint("bench_source"), endpoint("bench_target_cdcflow"), snapshot,
                      [LoadTable(tables[0], same_types(tables[0], targets[0][0]), estimate)],
                      LoadOptions(workers=workers, split_rows=split_rows), threading.Event())
    target.add_primary_keys([t for t, (_, needs_pk) in zip(tables, targets) if needs_pk])
    return time.monotonic() - started


def run_pg_dump() -> float:
    recreate_database("bench_target_pgdump")
    bindir = sorted(Path("/usr/lib/postgresql").glob("*/bin"))[-1]
    started = time.monotonic()
    dump = subprocess.Popen([str(bindir / "pg_dump"), "-t", TABLE, "--no-owner", "-d", dsn("bench_source")],
                            stdout=subprocess.PIPE)
    restore = subprocess.run([str(bindir / "psql"), "-q", "-X", "-v", "ON_ERROR_STOP=1", "-d",
                              dsn("bench_target_pgdump")], stdin=dump.stdout, stdout=subprocess.DEVNULL, check=True)
    dump.stdout.close()
    assert dump.wait() == 0 and restore.returncode == 0
    with psycopg.connect(dsn("bench_target_pgdump"), autocommit=True) as conn:
        conn.execute(f"ANALYZE {TABLE}")  # cdcflow analyzes too: same finish line
    return time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--split-rows", type=int, default=250_000)
    parser.add_argument("--out", default=str(REPO / "bench" / "results" / "fullload"))
    args = parser.parse_args()
    load_stack_env()
    print(f"building source: {args.rows:,} rows ...", flush=True)
    source = build_source(args.rows)
    expected = fingerprint("bench_source")
    print(f"source: {source['bytes'] / 1e6:.0f} MB", flush=True)

    results = {}
    for name, run in (("pg_dump | psql", run_pg_dump),
                      ("cdcflow", lambda: run_cdcflow(args.workers, args.split_rows))):
        seconds = run()
        db = "bench_target_pgdump" if name.startswith("pg_dump") else "bench_target_cdcflow"
        matches = fingerprint(db) == expected
        results[name] = {"seconds": round(seconds, 2), "rows_per_second": round(args.rows / seconds),
                         "mb_per_second": round(source["bytes"] / 1e6 / seconds, 1), "target_equals_source": matches}
        print(f"{name:16s} {seconds:7.2f} s  {args.rows / seconds:>12,.0f} rows/s  equal={matches}", flush=True)

    ratio = results["pg_dump | psql"]["seconds"] / results["cdcflow"]["seconds"]
    report = {"when": datetime.now(UTC).isoformat(timespec="seconds"), "machine": f"{os.cpu_count()} cores",
              "source": source, "workers": args.workers, "split_rows": args.split_rows, "results": results,
              "speedup_vs_pg_dump": round(ratio, 2)}
    Path(args.out + ".json").write_text(json.dumps(report, indent=2) + "\n")
    lines = [f"# Full load: cdcflow vs pg_dump | psql ({report['when']})", "",
             f"Source: {args.rows:,} rows, {source['bytes'] / 1e6:.0f} MB (table + index), {report['machine']}, "
             f"cdcflow workers={args.workers}, ranges of {args.split_rows:,} rows.", "",
             "| method | seconds | rows/s | MB/s | target equals source |", "|---|---|---|---|---|"]
    lines += [f"| {k.replace('|', chr(92) + '|')} | {v['seconds']} | {v['rows_per_second']:,} | {v['mb_per_second']} | {v['target_equals_source']} |"
              for k, v in results.items()]
    lines += ["", f"Speed-up of cdcflow over pg_dump \\| psql: **{ratio:.2f}x**", ""]
    Path(args.out + ".md").write_text("\n".join(lines))
    print(f"speed-up vs pg_dump | psql: {ratio:.2f}x  ->  {args.out}.json", flush=True)
    return 0 if all(r["target_equals_source"] for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
