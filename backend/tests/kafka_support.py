"""Debezium-format messages for event logger tests and benchmarks."""

import json
import time

from confluent_kafka import Producer


def change_event(op: str, row_id: int, schema: str = "public", table: str = "t", lsn: int = 0) -> bytes:
    after = None if op == "d" else {"id": row_id, "name": f"row {row_id}", "qty": row_id % 7}
    before = {"id": row_id, "name": f"row {row_id}", "qty": 0} if op in ("u", "d") else None
    return json.dumps({
        "schema": {"type": "struct", "name": "envelope"},
        "payload": {"op": op, "before": before, "after": after, "ts_ms": int(time.time() * 1000),
                    "source": {"db": "demo_source", "schema": schema, "table": table, "lsn": lsn or row_id * 64,
                               "txId": 1000 + row_id, "ts_ms": int(time.time() * 1000)}}}).encode()


def key(row_id: int) -> bytes:
    return json.dumps({"schema": {"type": "struct"}, "payload": {"id": row_id}}).encode()


def produce(bootstrap: str, topic: str, messages: list[tuple[bytes | None, bytes | None]]) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 20, "batch.num.messages": 10000,
                         "compression.type": "lz4"})
    for i, (k, v) in enumerate(messages):
        while True:
            try:
                producer.produce(topic, key=k, value=v)
                break
            except BufferError:
                producer.poll(0.1)
        if i % 10000 == 0:
            producer.poll(0)
    assert producer.flush(60) == 0
