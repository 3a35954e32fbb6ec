"""Event logger benchmark: sustained ingest (parsed, stored in pipeline_runs, offsets committed) against a bare
confluent-kafka consume loop over the same topic, in one run; and the cost of storing each change once by its
source identity: the logger as it is (hash of LSN, tx, table, op and key, unique index on it) against the same
logger with that key left out (unique by Kafka offset only, as before), over the same messages.

    make bench-events      (or: backend/.venv/bin/python bench/event_logger_bench.py --events 500000)

Writes bench/results/event_logger.json and .md.
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

import psycopg
from confluent_kafka import Consumer

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
from common import load_stack_env  # noqa: E402
sys.path.insert(0, str(REPO / "backend" / "src"))
sys.path.insert(0, str(REPO / "backend"))

from cdcflow.events import parser as event_parser  # noqa: E402
from cdcflow.events.logger import EventLogger, LoggerConfig  # noqa: E402
from tests.kafka_support import change_event, key, produce  # noqa: E402




def bench_pipeline(dsn: str) -> str:
    """A pipeline row for the events to belong to (no connectors: the topic is filled directly)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn_id = conn.execute(
            "INSERT INTO connections (name, connection_type, database_type, host, port, database, username, "
            "password_encrypted) VALUES (%s, 'source', 'postgresql', '127.0.0.1', 5432, 'bench', 'bench', 'v1:x:x') "
            "RETURNING id", (f"bench-{uuid.uuid4().hex[:8]}",)).fetchone()[0]
        return str(conn.execute(
            "INSERT INTO pipelines (name, source_connection_id, target_connection_id, mode) "
            "VALUES (%s, %s, %s, 'cdc_only') RETURNING id", (f"bench-{uuid.uuid4().hex[:8]}", conn_id, conn_id)
        ).fetchone()[0])


def bare_consume(bootstrap: str, topic: str, total: int) -> float:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"bench-bare-{uuid.uuid4().hex[:6]}",
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.subscribe([topic])
    seen, started = 0, None
    while seen < total:
        batch = consumer.consume(1000, 1.0)
        if batch and started is None:
            started = time.monotonic()
        seen += sum(1 for m in batch if m.error() is None)
    elapsed = time.monotonic() - started
    consumer.close()
    return elapsed


def postgres_cpu_seconds() -> float | None:
    """CPU seconds used so far by the stack's PostgreSQL (postmaster and its backends), from /proc: on a shared
    machine wall time says more about the neighbours than about the logger, CPU time does not."""
    pid_file = Path(os.environ.get("CDCFLOW_STACK_DIR", REPO / ".stack")) / "pg" / "data" / "postmaster.pid"
    try:
        postmaster = int(pid_file.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    ticks = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry) == postmaster or int(fields[1]) == postmaster:
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def logger_ingest(bootstrap: str, dsn: str, topic: str, total: int, source_identity: bool = True,
                  direct_copy: bool = True) -> dict:
    """Seconds (wall, and CPU of this process and of PostgreSQL) to store `total` events; without `source_identity`
    the change's identity is not hashed: each event is keyed by its Kafka coordinates (what the parser does for an
    event without a source position), de-duplication by offset only; without `direct_copy` every batch takes the
    staging path."""
    identity = event_parser.source_identity
    if not source_identity:
        event_parser.source_identity = lambda *args: None
    try:
        cpu, pg_cpu = time.process_time(), postgres_cpu_seconds()
        wall, pg_after, cpu_after = _ingest(bootstrap, dsn, topic, total, direct_copy)
        return {"seconds": wall, "python_cpu": cpu_after - cpu,
                "postgres_cpu": None if pg_cpu is None or pg_after is None else pg_after - pg_cpu}
    finally:
        event_parser.source_identity = identity


def _ingest(bootstrap: str, dsn: str, topic: str, total: int, direct_copy: bool = True) -> tuple:
    config = LoggerConfig(bootstrap_servers=bootstrap, database_url=dsn, group_id=f"bench-{uuid.uuid4().hex[:6]}",
                          topic_regex="^" + topic.replace(".", r"\.") + "$", direct_copy=direct_copy)
    event_logger = EventLogger(config)
    thread = threading.Thread(target=event_logger.run, daemon=True)
    thread.start()
    while event_logger.stats.last_batch_at is None:
        time.sleep(0.01)
    started = time.monotonic()
    while event_logger.stats.stored < total:
        time.sleep(0.05)
    elapsed = time.monotonic() - started
    # Read before the logger closes its connection: an exited backend's CPU time is gone from /proc.
    pg_cpu, cpu = postgres_cpu_seconds(), time.process_time()
    event_logger._stop.set()  # noqa: SLF001
    thread.join(30)
    return elapsed, pg_cpu, cpu


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=500_000)
    parser.add_argument("--out", default=str(REPO / "bench" / "results" / "event_logger"))
    parser.add_argument("--rounds", type=int, default=1,
                        help="alternate the two logger variants this many times each; the medians are reported")
    args = parser.parse_args()
    load_stack_env()
    bootstrap, dsn = os.environ["KAFKA_BOOTSTRAP_SERVERS"], os.environ["DATABASE_URL"]
    pipeline_id = bench_pipeline(dsn)
    topic = f"cdcflowbench.{pipeline_id}.public.orders"
    print(f"producing {args.events:,} Debezium events to {topic} ...", flush=True)
    ops = "ccuud"
    produce(bootstrap, topic, [(key(i), change_event(ops[i % 5], i, table="orders")) for i in range(args.events)])

    bare = bare_consume(bootstrap, topic, args.events)
    print(f"bare consume loop: {args.events / bare:>10,.0f} events/s ({bare:.1f} s)", flush=True)
    # The same messages for each variant (rows removed in between), alternating, medians reported.
    variants = {"offset_only": {"source_identity": False}, "staging_path": {"direct_copy": False},
                "event_logger": {}}
    runs: dict[str, list[dict]] = {name: [] for name in variants}
    stored = keyed = keyed_before = 0
    for _ in range(args.rounds):
        for name, options in variants.items():
            run = logger_ingest(bootstrap, dsn, topic, args.events, **options)
            runs[name].append(run)
            print(f"{name:>14}: {args.events / run['seconds']:>8,.0f} events/s ({run['seconds']:.1f} s), "
                  f"CPU: logger {run['python_cpu']:.1f} s, PostgreSQL {run['postgres_cpu'] or 0:.1f} s", flush=True)
            with psycopg.connect(dsn) as conn:
                # with_key: rows keyed by their source identity (not by their Kafka coordinates)
                count, with_key = conn.execute(
                    "SELECT count(*), count(*) FILTER (WHERE source_key <> md5(kafka_topic || '|' || kafka_partition "
                    "|| '|' || kafka_offset)::uuid) FROM pipeline_runs WHERE kafka_topic = %s", (topic,)).fetchone()
            if name == "offset_only":
                keyed_before += with_key
            else:
                stored, keyed = count, with_key
                assert count == args.events, f"{name} stored {count}"
            clear(dsn, topic, pipeline_id)

    def summary(name: str) -> dict:
        median = {k: statistics.median(r[k] or 0 for r in runs[name]) for k in ("seconds", "python_cpu",
                                                                              "postgres_cpu")}
        return {"seconds": round(median["seconds"], 2), "events_per_second": round(args.events / median["seconds"]),
                "logger_cpu_us_per_event": round(median["python_cpu"] * 1e6 / args.events, 1),
                "postgres_cpu_us_per_event": round(median["postgres_cpu"] * 1e6 / args.events, 1)}

    logger_run, before, staged = summary("event_logger"), summary("offset_only"), summary("staging_path")
    ratio = bare / logger_run["seconds"]
    report = {"when": datetime.now(UTC).isoformat(timespec="seconds"), "events": args.events, "stored": stored,
              "bare_consume": {"seconds": round(bare, 2), "events_per_second": round(args.events / bare)},
              "event_logger": logger_run, "event_logger_offset_only": before, "event_logger_staging_path": staged,
              "source_identity_cost": round(1 - before["seconds"] / logger_run["seconds"], 3),
              "logger_vs_bare": round(ratio, 3), "rounds": args.rounds,
              "load_average_1m": round(os.getloadavg()[0], 1)}
    assert keyed_before == 0 and keyed == stored, "each variant must run as described"
    Path(args.out + ".json").write_text(json.dumps(report, indent=2) + "\n")

    def row(label: str, r: dict) -> str:
        return (f"| {label} | {r['seconds']} | {r['events_per_second']:,} | {r['logger_cpu_us_per_event']} | "
                f"{r['postgres_cpu_us_per_event']} |")

    Path(args.out + ".md").write_text("\n".join([
        f"# Event logger ingest vs bare consume ({report['when']})", "",
        f"{args.events:,} Debezium JSON events (with schemas) in one topic partition; {os.cpu_count()} cores; "
        f"load average {report['load_average_1m']} at the end; median of {args.rounds} alternating round(s). "
        "CPU columns: microseconds of CPU per event, of the logger process and of PostgreSQL (all its processes): "
        "on a shared machine they say what the logger costs, the wall time also what the neighbours took.", "",
        "| path | seconds | events/s | logger CPU µs/event | PostgreSQL CPU µs/event |", "|---|---|---|---|---|",
        f"| bare confluent-kafka consume loop | {report['bare_consume']['seconds']} | "
        f"{report['bare_consume']['events_per_second']:,} | | |",
        row("event logger (parse, binary COPY straight into pipeline_runs + counters per batch, offsets committed; "
            "writes overlap parsing)",
            logger_run),
        row("same, every batch through the staging table + INSERT ... ON CONFLICT", staged),
        row("same as the first, keyed by Kafka coordinates only (no source-identity hash)", before), "",
        f"Logger throughput is {ratio:.1%} of the bare loop; stored rows: {stored:,}.", ""]))
    print(f"ratio {ratio:.3f} -> {args.out}.json", flush=True)
    clear(dsn, topic, pipeline_id)  # leave the metadata database as it was
    return 0 if stored == args.events else 1


def clear(dsn: str, topic: str, pipeline_id: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DELETE FROM pipeline_runs WHERE kafka_topic = %s", (topic,))
        for table in ("pipeline_event_rollups", "pipeline_event_totals", "pipeline_event_minutes"):
            conn.execute(f"DELETE FROM {table} WHERE pipeline_id = %s", (pipeline_id,))
        conn.execute("VACUUM ANALYZE pipeline_runs")


if __name__ == "__main__":
    sys.exit(main())
