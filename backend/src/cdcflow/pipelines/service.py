"""Pipeline CRUD: validation against the real source catalog, soft delete, and no edits while it runs."""

import uuid

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cdcflow.audit.service import record
from cdcflow.connections.service import endpoint_for
from cdcflow.core.crypto import SecretBox
from cdcflow.core.deps import Actor
from cdcflow.core.errors import Conflict, NotFound, Unprocessable
from cdcflow.engine.postgres import inspect
from cdcflow.models import Connection, ConnectionType, Pipeline, PipelineStatus, PipelineTable
from cdcflow.pipelines.schemas import PipelineCreate, PipelineUpdate

LOCKED_STATES = (PipelineStatus.STARTING, PipelineStatus.RUNNING, PipelineStatus.PAUSED, PipelineStatus.STOPPING)


def get_pipeline(session: Session, pipeline_id: uuid.UUID, for_update: bool = False) -> Pipeline:
    query = select(Pipeline).where(Pipeline.id == pipeline_id, Pipeline.deleted_at.is_(None))
    if for_update:
        query = query.with_for_update()
    pipeline = session.scalar(query)
    if pipeline is None:
        raise NotFound("Pipeline not found")
    return pipeline


def list_pipelines(session: Session, limit: int, offset: int, status: PipelineStatus | None = None,
                   mode=None, q: str | None = None) -> tuple[list[Pipeline], int]:
    query = select(Pipeline).where(Pipeline.deleted_at.is_(None))
    if status is not None:
        query = query.where(Pipeline.status == status)
    if mode is not None:
        query = query.where(Pipeline.mode == mode)
    if q:
        query = query.where(Pipeline.name.ilike("%" + q.replace("%", r"\%").replace("_", r"\_") + "%"))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    items = session.scalars(query.order_by(Pipeline.created_at.desc(), Pipeline.id).limit(limit).offset(offset))
    return list(items), total


def _connection(session: Session, connection_id: uuid.UUID, expected: ConnectionType, role: str) -> Connection:
    conn = session.scalar(select(Connection).where(Connection.id == connection_id, Connection.deleted_at.is_(None)))
    if conn is None:
        raise Unprocessable(f"{role} connection not found", {"field": f"{role}_connection_id"})
    if conn.connection_type != expected:
        raise Unprocessable(f"{role} connection {conn.name!r} is a {conn.connection_type.value}, "
                            f"not a {expected.value}", {"field": f"{role}_connection_id"})
    return conn


def _verify_tables(box: SecretBox, source: Connection, tables: list[str], timeout: int) -> dict[str, int]:
    """Every selected table must exist in the source; returns the estimated row count of each."""
    try:
        with inspect.open_connection(endpoint_for(box, source), timeout) as db:
            found = {f"{t['schema']}.{t['table']}": t for t in inspect.list_tables(db)}
    except inspect.EndpointUnreachable as exc:
        raise Unprocessable(f"Cannot verify tables: source {source.name!r} is unreachable ({exc})") from None
    missing = [t for t in tables if t not in found]
    if missing:
        raise Unprocessable(f"Tables not found in source {source.name!r}: {', '.join(missing[:20])}",
                            {"missing_tables": missing})
    return {t: found[t]["estimated_rows"] for t in tables}


def _ensure_unique_name(session: Session, name: str, exclude: uuid.UUID | None = None) -> None:
    query = select(Pipeline.id).where(func.lower(Pipeline.name) == name.lower(), Pipeline.deleted_at.is_(None))
    if exclude is not None:
        query = query.where(Pipeline.id != exclude)
    if session.scalar(query):
        raise Conflict(f"A pipeline named {name!r} already exists")


def _set_tables(pipeline: Pipeline, tables: list[str], estimates: dict[str, int]) -> None:
    """Replace the selection, keeping the rows (and progress) of tables that stay selected."""
    existing = {t.qualified_name: t for t in pipeline.tables}
    selected = []
    for i, name in enumerate(tables):
        row = existing.get(name) or PipelineTable(schema_name=name.split(".", 1)[0], table_name=name.split(".", 1)[1])
        row.position, row.rows_estimated = i, estimates.get(name, row.rows_estimated)
        selected.append(row)
    pipeline.tables = selected


def create_pipeline(session: Session, box: SecretBox, actor: Actor, body: PipelineCreate, timeout: int) -> Pipeline:
    _ensure_unique_name(session, body.name)
    source = _connection(session, body.source_connection_id, ConnectionType.SOURCE, "source")
    _connection(session, body.target_connection_id, ConnectionType.TARGET, "target")
    estimates = _verify_tables(box, source, body.tables, timeout)
    pipeline = Pipeline(name=body.name, source_connection_id=source.id, target_connection_id=body.target_connection_id,
                        mode=body.mode, created_by=actor.username, kafka_topics=[],
                        schema_change_policy=body.schema_change_policy,
                        drop_removed_columns=body.drop_removed_columns)
    _set_tables(pipeline, body.tables, estimates)
    session.add(pipeline)
    session.flush()
    record(session, actor, "pipeline.create", f"pipeline:{pipeline.id}",
           {"name": pipeline.name, "mode": pipeline.mode.value, "tables": body.tables,
            "schema_change_policy": pipeline.schema_change_policy.value})
    return pipeline


def update_pipeline(session: Session, box: SecretBox, actor: Actor, pipeline_id: uuid.UUID, body: PipelineUpdate,
                    timeout: int) -> Pipeline:
    pipeline = get_pipeline(session, pipeline_id, for_update=True)
    if pipeline.status in LOCKED_STATES:
        raise Conflict(f"Pipeline is {pipeline.status.value}; stop it before editing")
    changes = body.model_dump(exclude_unset=True)
    if body.name is not None:
        _ensure_unique_name(session, body.name, exclude=pipeline.id)
        pipeline.name = body.name
    if body.target_connection_id is not None:
        pipeline.target_connection_id = _connection(session, body.target_connection_id, ConnectionType.TARGET,
                                                    "target").id
    if body.mode is not None:
        pipeline.mode = body.mode
    if body.schema_change_policy is not None:
        pipeline.schema_change_policy = body.schema_change_policy
    if body.drop_removed_columns is not None:
        pipeline.drop_removed_columns = body.drop_removed_columns
    if body.tables is not None:
        source = session.get(Connection, pipeline.source_connection_id)
        _set_tables(pipeline, body.tables, _verify_tables(box, source, body.tables, timeout))
    record(session, actor, "pipeline.update", f"pipeline:{pipeline.id}", {k: str(v) for k, v in changes.items()})
    return pipeline
