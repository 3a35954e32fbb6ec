"""Event logger benchmark: sustained ingest (parsed, stored in pipeline_runs, offsets committed) against a bare
confluent-kafka consume loop over the same topic, in one run.

    make bench-events      (or: backend/.venv/bin/python bench/event_logger_bench.py --events 500000)

Writes bench/results/event_logger.json and .md.
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

import psycopg
from confluent_kafka import Consumer

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
from common import load_stack_env  # noqa: E402
sys.path.insert(0, str(REPO / "backend" / "src"))
sys.path.insert(0, str(REPO / "backend"))

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


def logger_ingest(bootstrap: str, dsn: str, topic: str, total: int) -> float:
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
    ingest = logger_ingest(bootstrap, dsn, topic, args.events)
    print(f"event logger:      {args.events / ingest:>10,.0f} events/s ({ingest:.1f} s), stored and committed",
          flush=True)
    with psycopg.connect(dsn) as conn:
        stored = conn.execute("SELECT count(*) FROM pipeline_runs WHERE kafka_topic = %s", (topic,)).fetchone()[0]
    ratio = bare / ingest
    report = {"when": datetime.now(UTC).isoformat(timespec="seconds"), "events": args.events, "stored": stored,
              "bare_consume": {"seconds": round(bare, 2), "events_per_second": round(args.events / bare)},
              "event_logger": {"seconds": round(ingest, 2), "events_per_second": round(args.events / ingest)},
              "logger_vs_bare": round(ratio, 3)}
    Path(args.out + ".json").write_text(json.dumps(report, indent=2) + "\n")
    Path(args.out + ".md").write_text("\n".join([
        f"# Event logger ingest vs bare consume ({report['when']})", "",
        f"{args.events:,} Debezium JSON events (with schemas) in one topic partition; {os.cpu_count()} cores.", "",
        "| path | seconds | events/s |", "|---|---|---|",
        f"| bare confluent-kafka consume loop | {report['bare_consume']['seconds']} | "
        f"{report['bare_consume']['events_per_second']:,} |",
        f"| event logger (parse, COPY + INSERT, offsets committed) | {report['event_logger']['seconds']} | "
        f"{report['event_logger']['events_per_second']:,} |", "",
        f"Logger throughput is {ratio:.1%} of the bare loop; stored rows: {stored:,}.", ""]))
    print(f"ratio {ratio:.3f} -> {args.out}.json", flush=True)
    with psycopg.connect(dsn, autocommit=True) as conn:  # leave the metadata database as it was
        conn.execute("DELETE FROM pipeline_runs WHERE kafka_topic = %s", (topic,))
        conn.execute("DELETE FROM pipeline_event_rollups WHERE pipeline_id = %s", (pipeline_id,))
        conn.execute("DELETE FROM pipeline_event_totals WHERE pipeline_id = %s", (pipeline_id,))
    return 0 if stored == args.events else 1


if __name__ == "__main__":
    sys.exit(main())
