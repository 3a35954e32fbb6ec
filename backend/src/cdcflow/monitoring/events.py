"""GET /monitoring/events: newest first, keyset pagination on the bigint id (no OFFSET scans), within the caller's
scope of pipelines."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, func, select, true
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import Session

from cdcflow.events.store import StoredEvent
from cdcflow.models import PipelineRun


def _newest_ids(query: Select, scope: list[uuid.UUID] | None, limit: int) -> Select:
    """The ids of the newest `limit` matching rows.

    Ids first, then rows: the id-only subquery walks the (pipeline_id, id) partial index even when the planner would
    otherwise scan the primary key backwards past millions of other pipelines' rows (a quiet pipeline). With several
    pipelines in scope, each is walked on its own index range (a LATERAL per pipeline) and the heads are merged, so a
    viewer of two quiet pipelines never pays for everybody else's events.
    """
    ids = query.with_only_columns(PipelineRun.id).order_by(PipelineRun.id.desc()).limit(limit)
    if scope is None:
        return ids
    if len(scope) == 1:
        return ids.where(PipelineRun.pipeline_id == scope[0])
    # One array parameter (not a VALUES list): the statement text is the same whatever the number of pipelines.
    pipelines = func.unnest(bindparam("scope", list(scope), type_=ARRAY(UUID(as_uuid=True)))) \
        .table_valued("pid").render_derived(name="scope")
    per_pipeline = ids.where(PipelineRun.pipeline_id == pipelines.c.pid).lateral("newest")
    return (select(per_pipeline.c.id).select_from(pipelines).join(per_pipeline, true())
            .order_by(per_pipeline.c.id.desc()).limit(limit))


def list_events(session: Session, limit: int, before_id: int | None, scope: list[uuid.UUID] | None,
                table: str | None, event_type: str | None, since: datetime | None,
                until: datetime | None) -> dict[str, Any]:
    if scope is not None and not scope:
        return {"items": [], "next_before_id": None, "limit": limit}
    query = select(PipelineRun).where(PipelineRun.run_type == "CDC", PipelineRun.deleted_at.is_(None))
    if table:
        query = query.where(PipelineRun.table_name == table)
    if event_type:
        query = query.where(PipelineRun.event_type == event_type)
    if since is not None:
        query = query.where(PipelineRun.started_at >= since)
    if until is not None:
        query = query.where(PipelineRun.started_at < until)
    if before_id is not None:
        query = query.where(PipelineRun.id < before_id)
    ids = _newest_ids(query, scope, limit + 1)
    rows = list(session.scalars(select(PipelineRun).where(PipelineRun.id.in_(ids.scalar_subquery()))
                                .order_by(PipelineRun.id.desc())))
    more = len(rows) > limit
    rows = rows[:limit]
    items = [StoredEvent(id=r.id, pipeline_id=str(r.pipeline_id), event_type=r.event_type, table_name=r.table_name,
                         source_lsn=r.source_lsn, latency_ms=r.latency_ms, kafka_topic=r.kafka_topic,
                         kafka_partition=r.kafka_partition, kafka_offset=r.kafka_offset,
                         created_at=r.started_at.isoformat(), run_metadata=r.run_metadata).public() for r in rows]
    return {"items": items, "next_before_id": rows[-1].id if more and rows else None, "limit": limit}
