"""The Debezium envelope parser: op normalization, latency, keys, size caps, and every malformed shape."""

import json
import uuid
from datetime import UTC, datetime

import pytest

from cdcflow.events.parser import MAX_METADATA_BYTES, Malformed, parse

PID = uuid.uuid4()
TOPIC = f"cdcflow.{PID}.public.orders"
NOW = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


def envelope(op="c", before=None, after=None, ts_ms=None, schemas=True, **source):
    payload = {"op": op, "before": before, "after": after if after is not None else ({"id": 1} if op != "d" else None),
               "source": {"db": "shop", "schema": "public", "table": "orders", "lsn": 123456, "txId": 77,
                          "ts_ms": ts_ms if ts_ms is not None else int(NOW.timestamp() * 1000) - 250, **source},
               "ts_ms": 0}
    doc = {"schema": {"type": "struct"}, "payload": payload} if schemas else payload
    return json.dumps(doc).encode()


@pytest.mark.parametrize("op,expected", [("c", "insert"), ("r", "insert"), ("u", "update"), ("d", "delete"),
                                          ("t", "truncate")])
def test_ops_are_normalized_and_the_raw_op_kept(op, expected):
    before = {"id": 1} if op in ("u", "d") else None
    event = parse(TOPIC, 0, 5, b'{"schema": {}, "payload": {"id": 1}}', envelope(op, before=before), NOW)
    assert event.event_type == expected and event.op == op and event.metadata["op"] == op


def test_fields_lsn_tx_latency_key_and_table():
    event = parse(TOPIC, 2, 9, json.dumps({"id": 42}).encode(), envelope(schemas=False), NOW)
    assert event.pipeline_id == PID and event.table_name == "public.orders"
    assert (event.source_lsn, event.tx_id, event.latency_ms) == (123456, 77, 250)
    assert event.primary_key == {"id": 42} and (event.topic, event.partition, event.offset) == (TOPIC, 2, 9)


def test_tombstones_are_none():
    assert parse(TOPIC, 0, 1, b'{"id": 1}', None, NOW) is None


@pytest.mark.parametrize("value,reason", [
    (b"not json at all", "not JSON"),
    (b"[1, 2, 3]", "not an object"),
    (envelope(op="x"), "unknown op"),
    (json.dumps({"op": "c", "after": {"id": 1}}).encode(), "missing source"),
    (json.dumps({"op": "u", "source": {}, "before": None, "after": None}).encode(), "neither before nor after"),
    (b"\xff\xfe\x00", "not JSON"),
])
def test_malformed_values_are_rejected_with_a_reason(value, reason):
    with pytest.raises(Malformed, match=reason):
        parse(TOPIC, 0, 1, None, value, NOW)


def test_topics_outside_the_naming_scheme_are_rejected():
    with pytest.raises(Malformed, match="topic"):
        parse("orders", 0, 1, None, envelope(), NOW)
    with pytest.raises(Malformed, match="topic"):
        parse("cdcflow.not-a-uuid.public.orders", 0, 1, None, envelope(), NOW)


def test_metadata_is_capped_in_size():
    huge = {"id": 1, "blob": "x" * 200_000, "many": [f"v{i}" for i in range(5000)],
            **{f"c{i}": "y" * 900 for i in range(40)}}
    event = parse(TOPIC, 0, 1, None, envelope(after=huge), NOW)
    assert len(json.dumps(event.metadata)) <= MAX_METADATA_BYTES + 200
    assert event.metadata.get("truncated") or len(event.metadata["after"]["blob"]) < 2000
