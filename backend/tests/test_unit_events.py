"""The Debezium envelope parser: op normalization, latency, keys, size caps, and every malformed shape."""

import json
import uuid
from datetime import UTC, datetime

import pytest

from cdcflow.events.parser import MAX_METADATA_BYTES, Malformed, kafka_identity, parse

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


def test_events_without_a_source_position_are_identified_by_their_kafka_coordinates():
    event = parse(TOPIC, 0, 1, None, envelope(lsn=None), NOW)
    assert event.source_lsn is None
    # The same message read twice keys the same (a batch read again is absorbed); another offset keys apart.
    assert event.source_key == kafka_identity(TOPIC, 0, 1) == parse(TOPIC, 0, 1, None, envelope(lsn=None), NOW).source_key
    assert parse(TOPIC, 0, 2, None, envelope(lsn=None), NOW).source_key != event.source_key


def mariadb(op="c", pos=4321, row=0, file="mysql-bin.000003", key_id=7):
    """A MariaDB change as Debezium's MySQL connector writes it: no lsn, a binlog coordinate instead."""
    before = {"id": key_id} if op in ("u", "d") else None
    return envelope(op, before=before, after=None if op == "d" else {"id": key_id}, lsn=None, txId=None,
                    file=file, pos=pos, row=row, gtid="0-1-42")


def test_a_mariadb_change_sent_twice_has_one_identity_that_the_unique_key_holds():
    """MariaDB events have no LSN, so an identity unique only together with source_lsn absorbed nothing for them
    (NULLs never conflict). The identity is the binlog coordinate, and it is the whole of what must be unique."""
    key = json.dumps({"id": 7}).encode()
    first = parse(TOPIC, 0, 10, key, mariadb(), NOW)
    replay = parse(TOPIC, 0, 4711, key, mariadb(), NOW)  # Debezium resumed from an older offset: a new Kafka offset
    assert first.source_lsn is None and first.source_key is not None
    assert (first.source_key, first.row_key_json) == (replay.source_key, replay.row_key_json) == \
        (first.source_key, b'{"id":7}')
    # Other rows of the same binlog event, other events, other files, other ops key apart.
    others = [parse(TOPIC, 0, 10, key, mariadb(row=1), NOW), parse(TOPIC, 0, 10, key, mariadb(pos=4400), NOW),
              parse(TOPIC, 0, 10, key, mariadb(file="mysql-bin.000004"), NOW),
              parse(TOPIC, 0, 10, key, mariadb("u"), NOW)]
    assert len({first.source_key, *(o.source_key for o in others)}) == 5
    # The unique index is on (pipeline_id, table_name, row_key, source_key): no column of it is NULL for MariaDB.
    identity = (first.pipeline_id, first.table_name, first.row_key_json, first.source_key)
    assert None not in identity
    assert identity == (replay.pipeline_id, replay.table_name, replay.row_key_json, replay.source_key)


def test_a_keyless_change_has_a_json_null_row_key():
    event = parse(TOPIC, 0, 1, None, envelope("t", after=None), NOW)
    assert event.row_key_json == b"null" and event.source_key is not None


def test_a_latency_beyond_the_column_is_capped_not_refused():
    event = parse(TOPIC, 0, 1, None, envelope(ts_ms=1), NOW)  # a change from 1970: ~56 years "late"
    assert event.latency_ms == 2**31 - 1
