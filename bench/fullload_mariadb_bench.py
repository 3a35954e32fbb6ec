"""Full-load benchmark, MariaDB -> PostgreSQL: cdcflow's row path (consistent snapshot, batches read while the target
COPYs the previous one) vs the nearest native pipe, `mariadb --batch -e 'SELECT ...' | psql -c 'COPY ... FROM
STDIN'`, same table, same machine, one run (make bench-fullload runs it after the PostgreSQL one).

Both targets start from the same empty table (created by cdcflow from the source definition) and get their primary
key after the load, so the two finish lines are the same; both are checked equal to the source by row count and a
per-row hash over the canonical form (cdcflow.engine.canonical). Results: bench/results/fullload_mariadb.json, .md.
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

import psycopg

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
from common import load_stack_env  # noqa: E402
sys.path.insert(0, str(REPO / "backend" / "src"))

from cdcflow.demo.mariadb_seed import endpoint_from_dsn  # noqa: E402
from cdcflow.engine.checksum import canonical_checksum  # noqa: E402
from cdcflow.engine.endpoints import DatabaseEndpoint  # noqa: E402
from cdcflow.engine.fullload.rows import run_row_load  # noqa: E402
from cdcflow.engine.mariadb.session import connect as mariadb_connect  # noqa: E402
from cdcflow.engine.mariadb.source import MariaDbSource  # noqa: E402
from cdcflow.engine.names import ResourceNames  # noqa: E402
from cdcflow.engine.postgres.target import PostgresTarget  # noqa: E402

SOURCE_DB, TABLE = "bench_source", "bench_orders"


def pg_dsn(db: str) -> str:
    return os.environ["PG_SUPERUSER_DSN"].rsplit("/", 1)[0] + "/" + db


def pg_endpoint(db: str) -> DatabaseEndpoint:
    from urllib.parse import urlsplit
    u = urlsplit(os.environ["PG_SUPERUSER_DSN"])
    return DatabaseEndpoint("postgresql", u.hostname, u.port, db, u.username, u.password, "public", "disable")


def source_endpoint() -> DatabaseEndpoint:
    return endpoint_from_dsn(os.environ["MARIADB_ADMIN_DSN"], SOURCE_DB)


def build_source(rows: int) -> dict:
    admin = endpoint_from_dsn(os.environ["MARIADB_ADMIN_DSN"], "mysql")
    started = time.monotonic()
    with mariadb_connect(admin, 10) as conn, conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {SOURCE_DB}")
        cur.execute(f"CREATE DATABASE {SOURCE_DB}")
        cur.execute(f"""CREATE TABLE {SOURCE_DB}.{TABLE} (
            id BIGINT PRIMARY KEY, customer_id INT NOT NULL, amount DECIMAL(12,2) NOT NULL, status VARCHAR(20) NOT NULL,
            created_at DATETIME(6) NOT NULL, attrs JSON, note LONGTEXT)""")
        cur.execute(f"""INSERT INTO {SOURCE_DB}.{TABLE}
            SELECT seq, (seq * 7919) % 100000, (seq % 100000) / 100.0, ELT(1 + seq % 4, 'new', 'paid', 'shipped', 'done'),
                   TIMESTAMP '2024-01-01 00:00:00' + INTERVAL seq SECOND,
                   JSON_OBJECT('channel', 'web', 'items', seq % 9, 'coupon', seq % 5 = 0), REPEAT(MD5(seq), 5)
            FROM seq_1_to_{rows}""")
        cur.execute(f"ANALYZE TABLE {SOURCE_DB}.{TABLE}")
        cur.fetchall()
        cur.execute("SELECT DATA_LENGTH + INDEX_LENGTH FROM information_schema.TABLES "
                    "WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s", (SOURCE_DB, TABLE))
        size = int(cur.fetchone()[0])
    return {"rows": rows, "bytes": size, "seconds_to_build": round(time.monotonic() - started, 1)}


def fresh_target(db: str):
    with psycopg.connect(pg_dsn("postgres"), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {db}")
    source = MariaDbSource(source_endpoint(), 10)
    tables, _ = source.read_tables([f"{SOURCE_DB}.{TABLE}"])
    target = PostgresTarget(pg_endpoint(db), 10)
    target.ensure_tables(tables)
    return source, target, tables


def run_cdcflow(workers: int) -> float:
    source, target, tables = fresh_target("bench_target_cdcflow")
    started = time.monotonic()
    with source.open_capture(ResourceNames(__import__("uuid").uuid4()), cdc=False) as point:
        run_row_load(source, target, point, tables, workers, threading.Event())
    target.add_primary_keys(tables)
    return time.monotonic() - started


def run_native() -> float:
    source, target, tables = fresh_target("bench_target_native")
    ep = source_endpoint()
    started = time.monotonic()
    columns = ", ".join(c.name for c in tables[0].columns)
    dump = subprocess.Popen(["mariadb", "--batch", "--skip-column-names", "--quick", "-h", ep.host, "-P",
                             str(ep.port), "-u", ep.username, "-e",
                             f"SELECT {columns} FROM {SOURCE_DB}.{TABLE}"],
                            stdout=subprocess.PIPE, env={**os.environ, "MYSQL_PWD": ep.password})
    bindir = sorted(Path("/usr/lib/postgresql").glob("*/bin"))[-1]
    restore = subprocess.run([str(bindir / "psql"), "-q", "-X", "-v", "ON_ERROR_STOP=1", "-d",
                              pg_dsn("bench_target_native"), "-c",
                              f"COPY {SOURCE_DB}.{TABLE} ({columns}) FROM STDIN WITH (NULL 'NULL')"],
                             stdin=dump.stdout, stdout=subprocess.DEVNULL, check=True, env={**os.environ, "PGTZ": "UTC"})
    dump.stdout.close()
    assert dump.wait() == 0 and restore.returncode == 0
    target.add_primary_keys(tables)  # the same key build and ANALYZE as cdcflow's
    return time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--split-rows", type=int, default=0, help="accepted for make bench-fullload; unused")
    parser.add_argument("--out", default=str(REPO / "bench" / "results" / "fullload"))
    args = parser.parse_args()
    load_stack_env()
    out = args.out + "_mariadb"
    print(f"building MariaDB source: {args.rows:,} rows ...", flush=True)
    source = build_source(args.rows)
    key = ("id",)
    expected = canonical_checksum(source_endpoint(), SOURCE_DB, TABLE, key, 600)
    results = {}
    for name, run, db in (("mariadb --batch | psql COPY", run_native, "bench_target_native"),
                          ("cdcflow", lambda: run_cdcflow(args.workers), "bench_target_cdcflow")):
        seconds = run()
        matches = canonical_checksum(pg_endpoint(db), SOURCE_DB, TABLE, key, 600) == expected
        results[name] = {"seconds": round(seconds, 2), "rows_per_second": round(args.rows / seconds),
                         "mb_per_second": round(source["bytes"] / 1e6 / seconds, 1), "target_equals_source": matches}
        print(f"{name:28s} {seconds:7.2f} s  {args.rows / seconds:>12,.0f} rows/s  equal={matches}", flush=True)
    ratio = results["mariadb --batch | psql COPY"]["seconds"] / results["cdcflow"]["seconds"]
    report = {"when": datetime.now(UTC).isoformat(timespec="seconds"), "machine": f"{os.cpu_count()} cores",
              "source": source, "results": results, "speedup_vs_native": round(ratio, 2)}
    Path(out + ".json").write_text(json.dumps(report, indent=2) + "\n")
    lines = [f"# Full load MariaDB -> PostgreSQL: cdcflow vs mariadb --batch | psql COPY ({report['when']})", "",
             f"Source: {args.rows:,} rows, {source['bytes'] / 1e6:.0f} MB (InnoDB data + index), {report['machine']}.",
             "", "| method | seconds | rows/s | MB/s | target equals source |", "|---|---|---|---|---|"]
    lines += [f"| {k.replace('|', chr(92) + '|')} | {v['seconds']} | {v['rows_per_second']:,} | {v['mb_per_second']} "
              f"| {v['target_equals_source']} |" for k, v in results.items()]
    lines += ["", f"cdcflow / native speed: **{ratio:.2f}x**", ""]
    Path(out + ".md").write_text("\n".join(lines))
    print(f"cdcflow vs native: {ratio:.2f}x  ->  {out}.json", flush=True)
    return 0 if all(r["target_equals_source"] for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
