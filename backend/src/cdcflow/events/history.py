"""Row history: every stored change of one source row (by table and primary key), oldest first, with the columns
each update changed.

Debezium keys each event with the row's primary key ({"id": 42}); the event logger stores that key in
run_metadata -> 'key' and in the row_key column, and the event log's unique key (pipeline, table, row_key, source
key) makes one row's timeline an index range scan at any log size (then sorted by id: a row's events are few).
"""

import uuid
from typing import Any

import orjson
from sqlalchemy import cast, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from cdcflow.core.errors import AppError
from cdcflow.models import PipelineRun

MAX_HISTORY = 1000


class InvalidQuery(AppError):
    """A query parameter that is well-formed but not usable; the same shape as a request validation error."""

    status_code, code = 422, "validation_error"

    def __init__(self, field: str, message: str) -> None:
        super().__init__("The request is invalid",
                         {"fields": [{"loc": ["query", field], "message": message, "type": "value_error"}]})


def _live_cdc(pipeline_id: uuid.UUID, table: str):
    return select(PipelineRun).where(PipelineRun.pipeline_id == pipeline_id, PipelineRun.run_type == "CDC",
                                     PipelineRun.deleted_at.is_(None), PipelineRun.table_name == table)


def resolve_key(session: Session, pipeline_id: uuid.UUID, table: str, raw: str) -> dict[str, Any]:
    """The key as Debezium writes it. A JSON object is taken as is ({"id": 42}, or several columns); a bare value
    (42, abc) names the single key column, which the table's newest event tells."""
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        value = raw  # an unquoted text key
    if isinstance(value, dict):
        if not value:
            raise InvalidQuery("key", "The key object is empty")
        return value
    if isinstance(value, (list, bool)) or value is None:
        raise InvalidQuery("key", 'Give the primary key value (42) or an object of key columns ({"id": 42})')
    newest = session.scalar(_live_cdc(pipeline_id, table).with_only_columns(PipelineRun.row_key)
                            .order_by(PipelineRun.id.desc()).limit(1))
    if not isinstance(newest, dict) or not newest:
        raise InvalidQuery("table", f"No events of {table} in this pipeline's event log")
    if len(newest) != 1:
        raise InvalidQuery("key", f"{table} has a key of several columns ({', '.join(newest)}): give them as an "
                                  'object, e.g. {"a": 1, "b": 2}')
    (column,) = newest
    # The type of the stored key decides: "42" finds a text key "42" and an integer key 42 alike.
    if isinstance(newest[column], str) and not isinstance(value, str):
        value = raw
    elif isinstance(newest[column], int) and isinstance(value, str) and value.lstrip("-").isdigit():
        value = int(value)
    return {column: value}


def changed_columns(before: dict | None, after: dict | None) -> list[str]:
    if not isinstance(before, dict) or not isinstance(after, dict):
        return []
    # Sorted: jsonb keeps no column order, so any other order would be arbitrary.
    return sorted({c for c in (*before, *after) if before.get(c) != after.get(c) or (c in before) != (c in after)})


def row_history(session: Session, pipeline_id: uuid.UUID, table: str, key: dict[str, Any]) -> dict[str, Any]:
    rows = list(session.scalars(_live_cdc(pipeline_id, table)
                                .where(PipelineRun.row_key == cast(key, JSONB))
                                .order_by(PipelineRun.id).limit(MAX_HISTORY + 1)))
    truncated = len(rows) > MAX_HISTORY
    items = []
    for r in rows[:MAX_HISTORY]:
        meta = r.run_metadata or {}
        source = meta.get("source") or {}
        before, after = meta.get("before"), meta.get("after")
        items.append({"id": r.id, "event_type": r.event_type, "created_at": r.started_at,
                      "source_ts_ms": source.get("ts_ms"), "source_lsn": r.source_lsn, "tx_id": source.get("txId"),
                      "snapshot": source.get("snapshot") not in (None, False, "false"),
                      "kafka_topic": r.kafka_topic, "kafka_partition": r.kafka_partition,
                      "kafka_offset": r.kafka_offset, "before": before, "after": after,
                      "changed": changed_columns(before, after) if r.event_type == "update" else []})
    latest = items[-1] if items else None
    return {"pipeline_id": pipeline_id, "table": table, "key": key, "items": items, "truncated": truncated,
            "exists": None if latest is None else latest["event_type"] != "delete",
            "latest": None if latest is None else (latest["after"] if latest["event_type"] != "delete" else None)}
