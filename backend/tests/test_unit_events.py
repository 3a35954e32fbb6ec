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


def test_a_change_sent_twice_has_one_source_identity_whatever_its_kafka_offset():
    key = json.dumps({"schema": {}, "payload": {"id": 4486, "region": "eu"}}).encode()
    same_key_reordered = json.dumps({"payload": {"region": "eu", "id": 4486}, "schema": {}}).encode()
    first = parse(TOPIC, 0, 4542, key, envelope("u", before={"id": 4486}, lsn=80704720), NOW)
    replay = parse(TOPIC, 0, 4679, same_key_reordered, envelope("u", before={"id": 4486}, lsn=80704720,
                                                                 ts_ms=123), NOW)
    assert first.source_key is not None and first.source_key == replay.source_key
    assert (first.offset, replay.offset) == (4542, 4679)


def test_changes_sharing_an_lsn_stay_distinct():
    """A primary-key update is a delete and a create at one LSN; a TRUNCATE of several tables is one record."""
    def key_of(op, key_id=1, lsn=500, table="orders", tx=77, topic=TOPIC):
        before = {"id": key_id} if op in ("u", "d") else None
        value = envelope(op, before=before, lsn=lsn, table=table, txId=tx)
        return parse(topic, 0, 1, json.dumps({"id": key_id}).encode() if op != "t" else None, value, NOW).source_key

    keys = [key_of("d"), key_of("c"), key_of("c", key_id=2), key_of("c", lsn=501), key_of("t"),
            key_of("t", table="lines"), key_of("c", tx=78),
            key_of("c", topic=f"cdcflow.{uuid.uuid4()}.public.orders")]
    assert len(set(keys)) == len(keys)


def test_events_without_an_lsn_have_no_source_identity():
    event = parse(TOPIC, 0, 1, None, envelope(lsn=None), NOW)
    assert event.source_key is None and event.source_lsn is None
