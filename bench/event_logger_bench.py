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


def logger_ingest(bootstrap: str, dsn: str, topic: str, total: int, source_identity: bool = True) -> float:
    """Seconds to store `total` events; without `source_identity` the change's key is not computed (NULL): no hash,
    no entry in the unique index on it, exactly the logger before de-duplication by source identity."""
    identity = event_parser.source_identity
    if not source_identity:
        event_parser.source_identity = lambda *args: None
    try:
        return _ingest(bootstrap, dsn, topic, total)
    finally:
        event_parser.source_identity = identity


def _ingest(bootstrap: str, dsn: str, topic: str, total: int) -> float:
    config = LoggerConfig(bootstrap_servers=bootstrap, database_url=dsn, group_id=f"bench-{uuid.uuid4().hex[:6]}",
                          topic_regex="^" + topic.replace(".", r"\.") + "$")
    event_logger = EventLogger(config)
    thread = threading.Thread(target=event_logger.run, daemon=True)
    thread.start()
    while event_logger.stats.last_batch_at is None:
        time.sleep(0.01)
    started = time.monotonic()
    while event_logger.stats.stored < total:
        time.sleep(0.05)
    elapsed = time.monotonic() - started
    event_logger._stop.set()  # noqa: SLF001
    thread.join(30)
    return elapsed


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
    # Offset-only, then the same messages again (rows removed in between) with the source identity, alternating.
    befores, afters, keyed_before = [], [], 0
    for _ in range(args.rounds):
        befores.append(logger_ingest(bootstrap, dsn, topic, args.events, source_identity=False))
        print(f"logger, unique by Kafka offset only:    {args.events / befores[-1]:>8,.0f} events/s "
              f"({befores[-1]:.1f} s)", flush=True)
        with psycopg.connect(dsn) as conn:
            keyed_before += conn.execute("SELECT count(source_key) FROM pipeline_runs WHERE kafka_topic = %s",
                                         (topic,)).fetchone()[0]
        clear(dsn, topic, pipeline_id)
        afters.append(logger_ingest(bootstrap, dsn, topic, args.events))
        print(f"logger, also unique by source identity: {args.events / afters[-1]:>8,.0f} events/s "
              f"({afters[-1]:.1f} s), stored and committed", flush=True)
        with psycopg.connect(dsn) as conn:
            stored, keyed = conn.execute("SELECT count(*), count(source_key) FROM pipeline_runs "
                                         "WHERE kafka_topic = %s", (topic,)).fetchone()
        if len(afters) < args.rounds:
            clear(dsn, topic, pipeline_id)
    before, ingest = statistics.median(befores), statistics.median(afters)
    ratio = bare / ingest
    cost = 1 - before / ingest
    report = {"when": datetime.now(UTC).isoformat(timespec="seconds"), "events": args.events, "stored": stored,
              "bare_consume": {"seconds": round(bare, 2), "events_per_second": round(args.events / bare)},
              "event_logger": {"seconds": round(ingest, 2), "events_per_second": round(args.events / ingest)},
              "event_logger_offset_only": {"seconds": round(before, 2),
                                           "events_per_second": round(args.events / before)},
              "source_identity_cost": round(cost, 3), "logger_vs_bare": round(ratio, 3), "rounds": args.rounds,
              "load_average_1m": round(os.getloadavg()[0], 1)}
    assert keyed_before == 0 and keyed == stored, "each variant must run as described"
    Path(args.out + ".json").write_text(json.dumps(report, indent=2) + "\n")
    Path(args.out + ".md").write_text("\n".join([
        f"# Event logger ingest vs bare consume ({report['when']})", "",
        f"{args.events:,} Debezium JSON events (with schemas) in one topic partition; {os.cpu_count()} cores; "
        f"load average {report['load_average_1m']} at the end; median of {args.rounds} alternating round(s).", "",
        "| path | seconds | events/s |", "|---|---|---|",
        f"| bare confluent-kafka consume loop | {report['bare_consume']['seconds']} | "
        f"{report['bare_consume']['events_per_second']:,} |",
        f"| event logger, unique by Kafka offset only (before) | {report['event_logger_offset_only']['seconds']} | "
        f"{report['event_logger_offset_only']['events_per_second']:,} |",
        f"| event logger, also unique by source identity (parse, COPY + INSERT, offsets committed) | "
        f"{report['event_logger']['seconds']} | {report['event_logger']['events_per_second']:,} |", "",
        f"Storing each change once by its source identity (a 16-byte hash per event, a unique index on "
        f"(source_lsn, source_key)) costs {cost:.1%} of the logger's time. Logger throughput is {ratio:.1%} of the "
        f"bare loop; stored rows: {stored:,}.", ""]))
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
