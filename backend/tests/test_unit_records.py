"""Change records as cdcflow's converter writes them (engine/records.py): a 0x00 byte, the schema id, plain JSON."""

import json
import struct
import uuid

import pytest

from cdcflow.engine import records
from cdcflow.engine.connect.configs import sink_config, source_config
from cdcflow.engine.endpoints import DatabaseEndpoint
from cdcflow.engine.names import ResourceNames
from cdcflow.events.parser import Malformed, parse

PAYLOAD = {"op": "u", "before": {"id": 1, "note": "a"}, "after": {"id": 1, "note": "b"}, "ts_ms": 1,
           "source": {"db": "shop", "schema": "public", "table": "orders", "lsn": 4096, "txId": 7, "ts_ms": 1}}


def schema_ref(payload: object, schema_id: int = 0x0123456789ABCDEF) -> bytes:
    return records.MAGIC + struct.pack(">Q", schema_id) + json.dumps(payload).encode()


def envelope(payload: object) -> bytes:
    return json.dumps({"schema": {"type": "struct", "fields": []}, "payload": payload}).encode()


def test_every_record_format_reads_as_its_payload():
    assert records.payload(schema_ref(PAYLOAD)) == PAYLOAD
    assert records.payload(envelope(PAYLOAD)) == PAYLOAD
    assert records.payload(json.dumps(PAYLOAD).encode()) == PAYLOAD
    assert records.payload(schema_ref(None)) is None


def test_a_payload_that_merely_has_schema_and_payload_keys_is_not_an_envelope():
    row = {"schema": "public", "payload": "x", "id": 3}
    assert records.payload(json.dumps(row).encode()) == row


@pytest.mark.parametrize("raw", [b"\x00\x01\x02", b"\x00" + b"\x01" * 8 + b"{not json", b"{", b"\xff"])
def test_broken_records_are_refused(raw):
    with pytest.raises(ValueError):
        records.payload(raw)


def test_the_parser_stores_the_same_event_from_either_format():
    topic = f"cdcflow.{uuid.uuid4()}.public.orders"
    key = {"id": 1}
    new = parse(topic, 0, 5, schema_ref(key, 1), schema_ref(PAYLOAD))
    old = parse(topic, 0, 5, envelope(key), envelope(PAYLOAD))
    assert new.metadata_json == old.metadata_json and new.source_key == old.source_key
    assert new.primary_key == {"id": 1} and new.source_lsn == 4096 and new.event_type == "update"
    with pytest.raises(Malformed):
        parse(topic, 0, 6, None, b"\x00\x01")


def test_both_connectors_write_and_read_records_that_name_their_schema():
    names = ResourceNames(uuid.uuid4())
    for endpoint in (DatabaseEndpoint("postgresql", "db", 5432, "shop", "c", "pw"),
                     DatabaseEndpoint("mariadb", "db", 3306, "shop", "c", "pw")):
        configs = (source_config(names, endpoint, ["shop.t"], "ref", bootstrap="k1:9092,k2:9092"),
                   sink_config(names, endpoint, ["t"], "ref", bootstrap="k1:9092,k2:9092",
                               source_type=endpoint.database_type))
        for config in configs:
            for side in ("key", "value"):
                assert config[f"{side}.converter"] == records.CONVERTER
                assert config[f"{side}.converter.bootstrap.servers"] == "k1:9092,k2:9092"
                assert config[f"{side}.converter.schema.topic"] == records.SCHEMA_TOPIC
    with pytest.raises(ValueError):
        records.converter_config("")
