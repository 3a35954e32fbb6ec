"""Columns dropped on the target for a pipeline with drop_removed_columns, once it is safe.

Records produced before the source DDL still carry the column; dropping it on the target before the sink has
applied them would stop the sink on an unknown column. So a drop waits for two things, in order: Debezium's committed
source offset passes the LSN seen right after the DDL (every earlier change is in Kafka), then the sink's committed
offset reaches the topic's end as it was at that moment (every earlier change is on the target).
"""

import logging
import uuid
from datetime import UTC, datetime

import psycopg
from sqlalchemy import select

from cdcflow.core.db import session_scope
from cdcflow.engine.connect.client import ConnectClient
from cdcflow.engine.names import ResourceNames
from cdcflow.models import PipelineRun, PipelineTable

logger = logging.getLogger(__name__)


def lsn_to_int(lsn: str) -> int:
    high, low = lsn.split("/")
    return (int(high, 16) << 32) + int(low, 16)


def _source_lsn(connect: ConnectClient, names: ResourceNames) -> int | None:
    offsets = connect.offsets(names.source_connector).get("offsets", [])
    values = [o.get("offset", {}).get("lsn") for o in offsets]
    return max((v for v in values if isinstance(v, int)), default=None)


def _sink_offset(connect: ConnectClient, names: ResourceNames, topic: str) -> int | None:
    for entry in connect.offsets(names.sink_connector).get("offsets", []):
        if entry.get("partition", {}).get("kafka_topic") == topic:
            return entry.get("offset", {}).get("kafka_offset")
    return None


def run_deferred_drops(ctx, pipeline_id: uuid.UUID, tracker) -> None:
    from cdcflow.pipelines.schema_sync import load_view, pipeline_lock

    with session_scope(ctx.session_factory) as session:
        waiting = {t.qualified_name: list((t.schema_state or {}).get("drops", [])) for t in session.scalars(
            select(PipelineTable).where(PipelineTable.pipeline_id == pipeline_id))}
    waiting = {k: v for k, v in waiting.items() if v}
    if not waiting or tracker is None:
        return
    names = ResourceNames(pipeline_id)
    view = load_view(ctx, pipeline_id)
    if view is None:
        return
    events = []
    with pipeline_lock(pipeline_id), ConnectClient.from_settings(ctx.settings, timeout=10) as connect:
        source_lsn = _source_lsn(connect, names)
        for table, drops in waiting.items():
            topic = names.topic(*table.split(".", 1))
            remaining = []
            for drop in drops:
                if drop.get("topic_end") is None:
                    if source_lsn is not None and source_lsn >= lsn_to_int(drop["after_lsn"]):
                        drop["topic_end"] = tracker.end_offset(topic)
                    remaining.append(drop)
                    continue
                applied = _sink_offset(connect, names, topic)
                if applied is None or applied < drop["topic_end"]:
                    remaining.append(drop)
                    continue
                schema, name = table.split(".", 1)
                with psycopg.connect(**view.target.libpq_kwargs(ctx.settings.connection_test_timeout_seconds),
                                     autocommit=True) as conn:
                    conn.execute("SET lock_timeout = '5s'")
                    if not conn.execute("SELECT 1 FROM information_schema.columns WHERE table_schema = %s AND "
                                        "table_name = %s AND column_name = %s", (schema, name, drop["column"])
                                        ).fetchone():
                        continue  # dropped already (by hand, or by another cdcflow process)
                    statement = psycopg.sql.SQL("ALTER TABLE {} DROP COLUMN IF EXISTS {}").format(
                        psycopg.sql.Identifier(schema, name), psycopg.sql.Identifier(drop["column"]))
                    conn.execute(statement)
                    events.append((table, drop["column"], statement.as_string(conn)))
            _save(ctx, pipeline_id, table, remaining, {d["column"] for d in drops} - {d["column"] for d in remaining})
    for table, column, ddl in events:
        now = datetime.now(UTC)
        with session_scope(ctx.session_factory) as session:
            run = PipelineRun(pipeline_id=pipeline_id, run_type="SCHEMA_CHANGE", status="APPLIED", table_name=table,
                              started_at=now, completed_at=now,
                              run_metadata={"table": table, "outcome": "APPLIED", "applied": [ddl], "changes": [{
                                  "kind": "drop_column", "column": column, "outcome": "apply", "ddl": [ddl],
                                  "message": f"column {column} dropped on the target: the sink has applied every "
                                             f"change made before it was dropped on the source"}]})
            session.add(run)


def _save(ctx, pipeline_id: uuid.UUID, table: str, drops: list[dict], done: set[str]) -> None:
    """Merge this pass into the stored list under the row lock: another process may have moved a drop on (or done
    it) meanwhile, and progress is never undone."""
    mine = {d["column"]: d for d in drops}
    with session_scope(ctx.session_factory) as session:
        row = session.scalar(select(PipelineTable).where(
            PipelineTable.pipeline_id == pipeline_id, PipelineTable.schema_name == table.split(".", 1)[0],
            PipelineTable.table_name == table.split(".", 1)[1]).with_for_update())
        if row is None:
            return
        merged = []
        for stored in (row.schema_state or {}).get("drops", []):
            if stored["column"] in done:
                continue
            ours = mine.get(stored["column"], stored)
            merged.append(stored if stored.get("topic_end") is not None else ours)
        row.schema_state = {**(row.schema_state or {}), "drops": merged}
