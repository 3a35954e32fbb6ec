"""MariaDB engine pieces that are pure logic: the type mapping both ways, the canonical row form, the connector
configs and offset of the hand-off, and MariaDB change events in the event parser."""

import json
import uuid
from datetime import UTC, datetime, time, timedelta, timezone
from decimal import Decimal

import pytest

from cdcflow.engine.canonical import canonical, fingerprint
from cdcflow.engine.catalog import Column, TableDef
from cdcflow.engine.connect.configs import server_id, sink_config, source_config, source_offset
from cdcflow.engine.endpoints import DatabaseEndpoint
from cdcflow.engine.mariadb.ddl import UnsupportedType, create_table_sql, mariadb_type, neutral_type
from cdcflow.engine.names import ResourceNames
from cdcflow.events.parser import parse


@pytest.mark.parametrize("neutral,expected", [
    ("numeric(12,2)", "DECIMAL(12,2)"), ("numeric", "DECIMAL(65,30)"), ("text", "LONGTEXT"),
    ("character varying(20)", "VARCHAR(20)"), ("timestamp with time zone", "DATETIME(6)"),
    ("timestamp(3) without time zone", "DATETIME(3)"), ("time without time zone", "TIME(6)"), ("date", "DATE"),
    ("boolean", "TINYINT(1)"), ("jsonb", "JSON"), ("json", "JSON"), ("bytea", "LONGBLOB"), ("uuid", "CHAR(36)"),
    ("integer", "INT"), ("bigint", "BIGINT"), ("smallint", "SMALLINT"), ("double precision", "DOUBLE"),
    ("real", "FLOAT")])
def test_neutral_types_map_to_mariadb(neutral, expected):
    assert mariadb_type(Column("c", neutral, False, True)) == expected


def test_enums_become_varchar_text_keys_a_bounded_varchar_and_arrays_are_refused():
    assert mariadb_type(Column("mood", "mood", False, False)) == "VARCHAR(255)"
    assert mariadb_type(Column("code", "text", True, True), in_key=True) == "VARCHAR(768)"
    with pytest.raises(UnsupportedType, match="tags"):
        mariadb_type(Column("tags", "text[]", False, True))
    ddl = create_table_sql(TableDef("db", "t", (Column("id", "bigint", True, True), Column("blob", "bytea", False,
                                                                                          True)), ("id",)), True)
    assert "`blob` LONGBLOB" in ddl and "PRIMARY KEY (`id`)" in ddl


@pytest.mark.parametrize("data_type,column_type,expected", [
    ("tinyint", "tinyint(1)", "boolean"), ("tinyint", "tinyint(4)", "smallint"), ("int", "int(10) unsigned", "bigint"),
    ("bigint", "bigint(20) unsigned", "numeric(20,0)"), ("decimal", "decimal(20,6)", "numeric(20,6)"),
    ("datetime", "datetime(6)", "timestamp(6) without time zone"),
    ("timestamp", "timestamp(6)", "timestamp(6) with time zone"), ("time", "time(6)", "time(6) without time zone"),
    ("varchar", "varchar(20)", "character varying(20)"), ("enum", "enum('a','b')", "text"),
    ("longblob", "longblob", "bytea"), ("longtext", "longtext", "text"), ("double", "double", "double precision")])
def test_mariadb_types_map_to_neutral(data_type, column_type, expected):
    assert neutral_type(data_type, column_type, False) == (expected, True)
    assert neutral_type("longtext", "longtext", True) == ("jsonb", True)  # JSON: LONGTEXT with a json_valid check


def test_canonical_form_is_the_same_whichever_database_the_value_came_from():
    assert canonical(Decimal("1.500000000000000000000000000000"), "numeric") == canonical(Decimal("1.5"), "numeric")
    assert canonical(Decimal("0E-10"), "numeric") == "0"
    assert canonical(1, "boolean") == canonical(True, "boolean") == "t"
    aware = datetime(2024, 6, 30, 22, 30, tzinfo=timezone(timedelta(hours=2)))
    assert canonical(aware, "timestamp with time zone") == canonical(datetime(2024, 6, 30, 20, 30), "x") \
        == "2024-06-30 20:30:00.000000"
    assert canonical(timedelta(hours=23, minutes=59, seconds=59, microseconds=5), "time") == \
        canonical(time(23, 59, 59, 5), "time")
    assert canonical('{"b": [1, 2.50], "a": null}', "jsonb") == canonical('{"a":null,"b":[1,2.5]}', "json")
    assert canonical(b"\x00\xff", "bytea") == canonical(memoryview(b"\x00\xff"), "bytea") == "00ff"
    assert canonical(None, "text") == "\\N"
    assert fingerprint([(1, "a")], ["integer", "text"]) != fingerprint([(1, "b")], ["integer", "text"])


def _endpoint(database_type: str) -> DatabaseEndpoint:
    return DatabaseEndpoint(database_type, "db.example", 3306, "shop", "cdc", "secret")


def test_mariadb_source_config_hands_off_at_the_snapshot_position_without_a_password():
    names = ResourceNames(uuid.uuid4())
    config = source_config(names, _endpoint("mariadb"), ["shop.orders", "shop.order_items"], "${dir:/s:k}",
                           bootstrap="k:9092")
    assert config["connector.class"] == "io.debezium.connector.mariadb.MariaDbConnector"
    assert config["snapshot.mode"] == "recovery" and config["database.password"] == "${dir:/s:k}"
    assert "secret" not in json.dumps(config)
    assert config["table.include.list"] == r"shop\.orders,shop\.order_items" and config["topic.prefix"] == \
        names.topic_prefix
    assert config["schema.history.internal.kafka.topic"] == f"{names.topic_prefix}.__schema_history"
    assert server_id(names) != server_id(ResourceNames(uuid.uuid4())) and server_id(names) > 1 << 30
    assert source_offset(_endpoint("mariadb"), {"file": "binlog.000002", "pos": 1411, "gtids": "0-1-42"}) == \
        {"file": "binlog.000002", "pos": 1411, "event": 0, "row": 0, "gtids": "0-1-42"}


def test_sink_config_by_target_and_source_type():
    names = ResourceNames(uuid.uuid4())
    to_maria = sink_config(names, _endpoint("mariadb"), ["t"], "${dir:/s:k}", source_type="postgresql",
                           bootstrap="k:9092")
    assert to_maria["connection.url"].startswith("jdbc:mariadb://db.example:3306/shop?")
    assert to_maria["collection.name.format"] == "${source.table}" and to_maria["quote.identifiers"] == "true"
    from_maria = sink_config(names, _endpoint("postgresql"), ["t"], "${dir:/s:k}", source_type="mariadb",
                             bootstrap="k:9092")
    assert from_maria["collection.name.format"] == "${source.db}.${source.table}"
    assert sink_config(names, _endpoint("postgresql"), ["t"], "r", bootstrap="k")["collection.name.format"] == \
        "${source.schema}.${source.table}"


def test_mariadb_change_events_parse_with_their_binlog_position_as_identity():
    pid = uuid.uuid4()
    topic = f"cdcflow.{pid}.shop.orders"

    def event(pos: int, row: int) -> bytes:
        return json.dumps({"op": "u", "before": {"id": 1}, "after": {"id": 1}, "source": {
            "connector": "mariadb", "db": "shop", "table": "orders", "file": "binlog.000002", "pos": pos, "row": row,
            "gtid": "0-1-42", "ts_ms": 1_700_000_000_000}}).encode()

    now = datetime(2026, 1, 1, tzinfo=UTC)
    first = parse(topic, 0, 1, b'{"id": 1}', event(1411, 0), now)
    assert first.table_name == "shop.orders" and first.event_type == "update"
    assert first.metadata["source"]["file"] == "binlog.000002" and first.metadata["source"]["gtid"] == "0-1-42"
    again = parse(topic, 0, 9, b'{"id": 1}', event(1411, 0), now)  # the same change re-sent after a restart
    other = parse(topic, 0, 2, b'{"id": 1}', event(1411, 1), now)
    assert first.source_key and first.source_key == again.source_key != other.source_key
