"""Parse one Debezium change event (JSON converter, with or without schemas) into a row for pipeline_runs.

Pure functions: no I/O, so every malformed shape is unit-tested.
"""

import hashlib
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

OPS = {"c": "insert", "r": "insert", "u": "update", "d": "delete", "t": "truncate"}
TOPIC = re.compile(r"^[A-Za-z0-9_-]+\.(?P<pipeline>[0-9a-fA-F-]{36})\.(?P<schema>[^.]+)\.(?P<table>.+)$")
MAX_METADATA_BYTES = 16_384
MAX_VALUE_CHARS = 1_024


class Malformed(ValueError):
    pass


@dataclass(frozen=True)
class ChangeEvent:
    pipeline_id: uuid.UUID
    event_type: str
    op: str
    table_name: str
    primary_key: dict[str, Any] | None
    source_lsn: int | None
    tx_id: int | None
    source_ts: datetime | None
    latency_ms: int | None
    topic: str
    partition: int
    offset: int
    metadata: dict[str, Any]
    source_key: uuid.UUID | None = None


def source_identity(pipeline_id: uuid.UUID, lsn: int | None, tx_id: int | None, table: str, op: str,
                    key: Any) -> uuid.UUID | None:
    """What makes a change unique at the source, hashed to 16 bytes: the same change re-sent by Debezium after a
    crash (it resumes from its last committed offset, so a replay lands at a new Kafka offset) hashes the same.

    Each row change in PostgreSQL's WAL has its own LSN; several events share one only when one record means
    several changes: a primary-key update (a delete and a create: op differs), a TRUNCATE of several tables
    (table differs), snapshot reads (key differs). Debezium's `sequence` is left out on purpose: its first part
    (the last commit LSN) comes from the restored offset after a restart, so a replay may not repeat it.
    None without an LSN (not a Debezium PostgreSQL event): such events are de-duplicated by Kafka offset only.
    """
    if lsn is None:
        return None
    text = "|".join((str(pipeline_id), str(lsn), "" if tx_id is None else str(tx_id), table, op,
                     orjson.dumps(key, option=orjson.OPT_SORT_KEYS, default=str).decode()))
    return uuid.UUID(bytes=hashlib.blake2b(text.encode(), digest_size=16).digest())


def _payload(raw: bytes | None, what: str) -> Any:
    if raw is None:
        return None
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise Malformed(f"{what} is not JSON: {exc}") from None
    # The JSON converter with schemas.enable=true wraps the data: {"schema": ..., "payload": ...}
    if isinstance(doc, dict) and "payload" in doc and "schema" in doc:
        return doc["payload"]
    return doc


def _cap(value: Any) -> Any:
    if isinstance(value, str) and len(value) > MAX_VALUE_CHARS:
        return value[:MAX_VALUE_CHARS] + f"…(+{len(value) - MAX_VALUE_CHARS} chars)"
    if isinstance(value, dict):
        return {k: _cap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_cap(v) for v in value[:100]]
    return value


def cap_metadata(metadata: dict[str, Any]) -> dict[str, Any]:
    """Long values are cut; if the event is still too big, before/after are dropped (marked truncated)."""
    capped = _cap(metadata)
    if len(orjson.dumps(capped, default=str)) > MAX_METADATA_BYTES:
        capped = {**capped, "before": None, "after": None, "truncated": True}
    return capped


def parse(topic: str, partition: int, offset: int, key: bytes | None, value: bytes | None,
          now: datetime | None = None) -> ChangeEvent | None:
    """The event, or None for a tombstone (value is null: Kafka compaction marker after a delete)."""
    if value is None:
        return None
    match = TOPIC.match(topic)
    if not match:
        raise Malformed(f"topic {topic!r} is not <prefix>.<pipeline id>.<schema>.<table>")
    payload = _payload(value, "value")
    if not isinstance(payload, dict):
        raise Malformed("value payload is not an object")
    op = payload.get("op")
    if op not in OPS:
        raise Malformed(f"unknown op {op!r}")
    source = payload.get("source")
    if not isinstance(source, dict):
        raise Malformed("missing source block")
    if op != "t" and payload.get("after") is None and payload.get("before") is None:
        raise Malformed("neither before nor after present")
    now = now or datetime.now(UTC)
    ts_ms = source.get("ts_ms")
    source_ts = datetime.fromtimestamp(ts_ms / 1000, UTC) if isinstance(ts_ms, (int, float)) else None
    latency = max(0, int((now - source_ts).total_seconds() * 1000)) if source_ts else None
    key_payload = _payload(key, "key") if key is not None else None
    schema = source.get("schema") or match["schema"]
    table = source.get("table") or match["table"]
    lsn = source.get("lsn") if isinstance(source.get("lsn"), int) else None
    tx_id = source.get("txId") if isinstance(source.get("txId"), int) else None
    pipeline_id, table_name = uuid.UUID(match["pipeline"]), f"{schema}.{table}"
    return ChangeEvent(
        pipeline_id=pipeline_id, event_type=OPS[op], op=op, table_name=table_name,
        primary_key=key_payload if isinstance(key_payload, dict) else None,
        source_lsn=lsn, tx_id=tx_id,
        source_ts=source_ts, latency_ms=latency, topic=topic, partition=partition, offset=offset,
        metadata=cap_metadata({"op": op, "before": payload.get("before"), "after": payload.get("after"),
                               "key": key_payload, "source": {k: source.get(k) for k in (
                                   "db", "schema", "table", "lsn", "txId", "sequence", "ts_ms", "snapshot")}}),
        source_key=source_identity(pipeline_id, lsn, tx_id, table_name, op, key_payload),
    )
