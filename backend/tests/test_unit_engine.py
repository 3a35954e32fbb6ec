"""Pure logic of the engine: lifecycle transitions, undo order, resource names, connector configs, trace summary."""

import re
import uuid

import pytest

from cdcflow.core.errors import Conflict
from cdcflow.engine.connect.client import summarize_trace
from cdcflow.engine.connect.configs import sink_config, source_config
from cdcflow.engine.endpoints import DatabaseEndpoint
from cdcflow.engine.names import ResourceNames
from cdcflow.models import PipelineStatus as S
from cdcflow.pipelines.lifecycle_jobs import Undo
from cdcflow.pipelines.states import check_transition


@pytest.mark.parametrize("action,current,expected", [
    ("start", S.NOT_STARTED, S.STARTING), ("start", S.STOPPED, S.STARTING), ("start", S.ERROR, S.STARTING),
    ("pause", S.RUNNING, S.PAUSED), ("resume", S.PAUSED, S.RUNNING), ("stop", S.RUNNING, S.STOPPING),
    ("stop", S.PAUSED, S.STOPPING),
])
def test_allowed_transitions(action, current, expected):
    assert check_transition(action, current) == expected


@pytest.mark.parametrize("action,current", [
    ("start", S.RUNNING), ("start", S.STOPPING), ("pause", S.PAUSED), ("pause", S.STOPPED),
    ("resume", S.RUNNING), ("stop", S.STOPPED), ("stop", S.NOT_STARTED), ("delete", S.RUNNING),
    ("delete", S.PAUSED), ("delete", S.STARTING),
])
def test_illegal_transitions_are_409_with_the_reason(action, current):
    with pytest.raises(Conflict) as info:
        check_transition(action, current)
    assert current.value in info.value.message and action in info.value.message


def test_undo_runs_newest_first_and_keeps_going_after_a_failure():
    done = []
    undo = Undo()
    undo.push("a", lambda: done.append("a"))
    undo.push("b", lambda: (_ for _ in ()).throw(RuntimeError("b broke")))
    undo.push("c", lambda: done.append("c"))
    undo.run()
    assert done == ["c", "a"]
    undo.run()
    assert done == ["c", "a"]  # cleared after running


def test_resource_names_fit_postgres_identifiers():
    names = ResourceNames(uuid.UUID("12345678-1234-5678-1234-567812345678"))
    assert names.slot == "cdcflow_12345678123456781234567812345678" and len(names.slot) <= 63
    assert names.topic("public", "orders") == "cdcflow.12345678-1234-5678-1234-567812345678.public.orders"


def test_connector_configs_reference_secrets_and_never_hold_the_password():
    endpoint = DatabaseEndpoint("postgresql", "db.local", 5432, "shop", "cdc", "s3cret!", "public", "require")
    names = ResourceNames(uuid.uuid4())
    src = source_config(names, endpoint, ["public.orders", "sales.order_items"], "${dir:/x:source_password}",
                        bootstrap="k:9092")
    sink = sink_config(names, endpoint, ["t1"], "${dir:/x:target_password}", bootstrap="k:9092")
    assert "s3cret!" not in repr(src) + repr(sink) + repr(endpoint)
    assert src["table.include.list"] == r"public\.orders,sales\.order_items"
    assert src["snapshot.mode"] == "no_data" and src["publication.autocreate.mode"] == "disabled"
    assert sink["insert.mode"] == "upsert" and sink["primary.key.mode"] == "record_key"
    assert sink["delete.enabled"] == "true" and "sslmode=require" in sink["connection.url"]


def test_sink_url_brackets_an_ipv6_host():
    endpoint = DatabaseEndpoint("postgresql", "2001:db8::5", 5432, "shop", "cdc", "pw")
    url = sink_config(ResourceNames(uuid.uuid4()), endpoint, ["t1"], "ref", bootstrap="k:9092")["connection.url"]
    assert url.startswith("jdbc:postgresql://[2001:db8::5]:5432/shop?")


def test_sink_rewrites_batches_only_with_one_record_per_key():
    # A multi-row INSERT ... ON CONFLICT may not touch a row twice: rewriting batches is safe only when the
    # reduction buffer keeps one record per key in a batch.
    endpoint = DatabaseEndpoint("postgresql", "db", 5432, "shop", "cdc", "pw")
    config = sink_config(ResourceNames(uuid.uuid4()), endpoint, ["t1"], "ref", bootstrap="k:9092")
    if "reWriteBatchedInserts=true" in config["connection.url"]:
        assert config.get("use.reduction.buffer") == "true"
    assert int(config["connection.pool.min_size"]) <= 1 <= int(config["connection.pool.max_size"])


def test_source_types_ride_along_only_where_the_sink_binds_by_them():
    # Debezium splits datatype.propagate.source.type on commas and full-matches each regex, case-insensitively,
    # against schema.table.typname; the JDBC sink reads the type for json/jsonb, arrays, ranges, inet, ... only.
    config = source_config(ResourceNames(uuid.uuid4()), DatabaseEndpoint("postgresql", "db", 5432, "shop", "c", "pw"),
                           ["public.t"], "ref", bootstrap="k:9092")
    assert "column.propagate.source.type" not in config
    patterns = [re.compile(p, re.IGNORECASE) for p in config["datatype.propagate.source.type"].split(",")]

    def propagated(name: str) -> bool:
        return any(p.fullmatch(name) for p in patterns)

    for plain in ("INT8", "int4", "INT2", "TEXT", "varchar", "BOOL", "NUMERIC", "TIMESTAMPTZ", "timestamp", "DATE",
                  "FLOAT8"):
        assert not propagated(f"public.t.{plain}"), plain
    for bound in ("JSONB", "json", "_INT4", "_text", "INT4RANGE", "TSTZRANGE", "UUID", "INET", "CIDR", "MACADDR",
                  "MONEY", "BIT", "VARBIT", "CITEXT", "BPCHAR", "TIME", "INTERVAL", "my_enum", "INT8X"):
        assert propagated(f"public.t.{bound}"), bound
    assert propagated("sales.orders.JSONB") and not propagated("sales.orders.int8")


def test_trace_summary_keeps_the_exception_and_its_root_cause():
    trace = ("org.apache.kafka.connect.errors.ConnectException: boom\n\tat a.b(C.java:1)\n"
             "Caused by: java.sql.SQLException: middle\nCaused by: org.postgresql.util.PSQLException: root cause\n")
    assert summarize_trace(trace) == ("org.apache.kafka.connect.errors.ConnectException: boom / "
                                      "Caused by: org.postgresql.util.PSQLException: root cause")
    assert summarize_trace("") == "no trace"
