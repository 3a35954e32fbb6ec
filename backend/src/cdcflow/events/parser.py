"""Parse one Debezium change event (as engine/records.py reads a record) into a row for pipeline_runs.

Pure functions: no I/O, so every malformed shape is unit-tested.
"""

import re
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from hashlib import blake2b, md5
from typing import Any

import orjson

from cdcflow.engine import records

OPS = {"c": "insert", "r": "insert", "u": "update", "d": "delete", "t": "truncate"}
TOPIC = re.compile(r"^[A-Za-z0-9_-]+\.(?P<pipeline>[0-9a-fA-F-]{36})\.(?P<schema>[^.]+)\.(?P<table>.+)$")
MAX_METADATA_BYTES = 16_384
MAX_VALUE_CHARS = 1_024
MAX_LATENCY_MS = 2**31 - 1


class Malformed(ValueError):
    pass


@dataclass(slots=True)
class ChangeEvent:
    pipeline_id: uuid.UUID
    event_type: str
    op: str
    table_name: str
    primary_key: dict[str, Any] | None
    source_lsn: int | None
    tx_id: int | None
    source_ts_ms: int | float | None
    latency_ms: int | None
    topic: str
    partition: int
    offset: int
    metadata: dict[str, Any]
    source_key: str | None = None  # see source_identity and kafka_identity
    # `metadata` as JSON (what pipeline_runs.run_metadata stores), serialized once by the parser.
    metadata_json: bytes = b"{}"
    # The row's key as JSON (pipeline_runs.row_key, what row history looks up): b"null" for a keyless change.
    row_key_json: bytes = b"null"

    @property
    def source_ts(self) -> datetime | None:
        return None if self.source_ts_ms is None else datetime.fromtimestamp(self.source_ts_ms / 1000, UTC)


def source_identity(pipeline_id: uuid.UUID | str, lsn: int | str | None, tx_id: int | None, table: str, op: str,
                    key: Any) -> str | None:
    """What makes a change unique at the source, hashed to 16 bytes (as 32 hex digits, which the uuid column
    reads as the same value as the hyphenated form): the same change re-sent by Debezium after a crash (it resumes
    from its last committed offset, so a replay lands at a new Kafka offset) hashes the same.

    Each row change in PostgreSQL's WAL has its own LSN; several events share one only when one record means
    several changes: a primary-key update (a delete and a create: op differs), a TRUNCATE of several tables
    (table differs), snapshot reads (key differs). Debezium's `sequence` is left out on purpose: its first part
    (the last commit LSN) comes from the restored offset after a restart, so a replay may not repeat it.
    A MariaDB event has no LSN; its binlog coordinate "file:pos:row" (the event's position and the row's index in
    it) plays the part. None without either: parse() then falls back to kafka_identity.
    """
    if lsn is None:
        return None
    text = f"{pipeline_id}|{lsn}|{'' if tx_id is None else tx_id}|{table}|{op}|".encode() + \
        orjson.dumps(key, option=orjson.OPT_SORT_KEYS, default=str)  # the same bytes as text + JSON, encoded once
    return blake2b(text, digest_size=16).hexdigest()


def kafka_identity(topic: str, partition: int, offset: int) -> str:
    """The key of an event without a source position: its Kafka coordinates, so a batch read twice is absorbed by
    the same unique index. md5 of "topic|partition|offset" as 32 hex digits: migration 0016 computes the same in
    SQL for the rows stored before it."""
    return md5(f"{topic}|{partition}|{offset}".encode()).hexdigest()


@lru_cache(maxsize=4096)
def _topic(topic: str) -> tuple[uuid.UUID, str, str, str]:
    """(pipeline id, its text, schema, table) of a change topic: a handful of topics carry millions of events."""
    match = TOPIC.match(topic)
    if not match:
        raise Malformed(f"topic {topic!r} is not <prefix>.<pipeline id>.<schema>.<table>")
    pipeline_id = uuid.UUID(match["pipeline"])
    return pipeline_id, str(pipeline_id), match["schema"], match["table"]


def pipeline_of_topic(topic: str) -> str:
    """The pipeline id (text) of a change topic."""
    return _topic(topic)[1]


def _payload(raw: bytes | None, what: str) -> Any:
    if raw is None:
        return None
    try:
        return records.payload(raw)
    except ValueError as exc:  # orjson.JSONDecodeError is a ValueError
        raise Malformed(f"{what} is not a change record (not JSON, nor a schema reference and JSON): {exc}") from None


def _cap(value: Any) -> Any:
    if isinstance(value, str) and len(value) > MAX_VALUE_CHARS:
        return value[:MAX_VALUE_CHARS] + f"…(+{len(value) - MAX_VALUE_CHARS} chars)"
    if isinstance(value, dict):
        return {k: _cap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_cap(v) for v in value[:100]]
    return value


def _cap_row(row: Any) -> Any:
    """_cap for a row image without a call per column: rows are flat maps of scalars (jsonb arrives as a string),
    so only the rare long string or nested value costs more than a type check. The row is copied only if a value
    changes (the parsed document is private to this event)."""
    if row is None:
        return None
    if type(row) is not dict:
        return _cap(row)
    for name, value in row.items():
        kind = type(value)
        if (kind is str and len(value) > MAX_VALUE_CHARS) or kind is dict or kind is list:
            row[name] = _cap(value)
    return row


def _cap_key(key: Any) -> Any:
    """_cap for a key: the key itself when nothing in it is long or nested (the usual case), so it is not copied;
    a copy otherwise (the uncapped key is the event's primary_key)."""
    if type(key) is dict:
        for value in key.values():
            kind = type(value)
            if (kind is str and len(value) > MAX_VALUE_CHARS) or kind is dict or kind is list:
                return _cap(key)
        return key
    return None if key is None else _cap(key)


def cap_metadata(metadata: dict[str, Any]) -> dict[str, Any]:
    """Long values are cut; if the event is still too big, before/after are dropped (marked truncated)."""
    capped = _cap(metadata)
    if len(orjson.dumps(capped, default=str)) > MAX_METADATA_BYTES:
        capped = {**capped, "before": None, "after": None, "truncated": True}
    return capped


def parse(topic: str, partition: int, offset: int, key: bytes | None, value: bytes | None,
          now: datetime | None = None) -> ChangeEvent | None:
    """The event, or None for a tombstone (value is null: Kafka compaction marker after a delete).

    Hot path (tens of thousands of calls a second): one JSON parse per message, the rest is plain lookups."""
    if value is None:
        return None
    pipeline_id, pipeline_text, topic_schema, topic_table = _topic(topic)
    payload = _payload(value, "value")
    if type(payload) is not dict:
        raise Malformed("value payload is not an object")
    op = payload.get("op")
    if op not in OPS:
        raise Malformed(f"unknown op {op!r}")
    source = payload.get("source")
    if type(source) is not dict:
        raise Malformed("missing source block")
    before, after = payload.get("before"), payload.get("after")
    if op != "t" and after is None and before is None:
        raise Malformed("neither before nor after present")
    get = source.get
    ts_ms = get("ts_ms")
    if type(ts_ms) is not int and type(ts_ms) is not float:  # bool is not a time either
        ts_ms = None
    now_ms = time.time() * 1000 if now is None else now.timestamp() * 1000
    # pipeline_runs.latency_ms is an integer: a change replayed weeks later must not be a batch PostgreSQL refuses.
    latency = min(max(0, int(now_ms - ts_ms)), MAX_LATENCY_MS) if ts_ms is not None else None
    key_payload = _payload(key, "key") if key is not None else None
    table_name = f"{get('schema') or topic_schema}.{get('table') or topic_table}"
    lsn, tx_id = get("lsn"), get("txId")
    lsn = lsn if type(lsn) is int else None
    tx_id = tx_id if type(tx_id) is int else None
    position = lsn
    if lsn is None and get("file") and type(get("pos")) is int:  # MariaDB/MySQL: the binlog coordinate
        position = f"{get('file')}:{get('pos')}:{get('row') or 0}"
    event_type = OPS[op]
    source_meta = {"db": get("db"), "schema": get("schema"), "table": get("table"), "lsn": get("lsn"),
                   "txId": get("txId"), "sequence": get("sequence"), "ts_ms": get("ts_ms"), "snapshot": get("snapshot")}
    if get("file"):
        source_meta["file"], source_meta["pos"], source_meta["gtid"] = get("file"), get("pos"), get("gtid")
    key_meta = _cap_key(key_payload)
    metadata = {"op": op, "before": _cap_row(before), "after": _cap_row(after), "key": key_meta,
                "source": source_meta, "event_type": event_type}
    metadata_json = orjson.dumps(metadata, default=str)
    if len(metadata_json) > MAX_METADATA_BYTES:
        metadata = {**metadata, "before": None, "after": None, "truncated": True}
        metadata_json = orjson.dumps(metadata, default=str)
    source_key = (source_identity(pipeline_text, position, tx_id, table_name, op, key_payload)
                  if position is not None else None) or kafka_identity(topic, partition, offset)
    return ChangeEvent(pipeline_id, event_type, op, table_name,
                       key_payload if type(key_payload) is dict else None, lsn, tx_id, ts_ms, latency, topic,
                       partition, offset, metadata, source_key, metadata_json,
                       orjson.dumps(key_meta, default=str))
