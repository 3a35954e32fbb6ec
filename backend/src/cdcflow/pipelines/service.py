"""Pipeline CRUD: validation against the real source catalog, soft delete, and no edits while it runs."""

import uuid

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cdcflow.access import policy
from cdcflow.audit.service import record
from cdcflow.connections.service import introspect
from cdcflow.core.crypto import SecretBox
from cdcflow.core.deps import Actor
from cdcflow.core.errors import Conflict, Forbidden, NotFound, Unprocessable
from cdcflow.engine.outbound import OutboundPolicy, OutboundRefused
from cdcflow.engine.mariadb import catalog as mariadb_catalog
from cdcflow.engine.postgres import inspect
from cdcflow.models import (
    AccessLevel,
    Connection,
    ConnectionType,
    Pipeline,
    PipelineStatus,
    PipelineTable,
    ResourceType,
)
from cdcflow.pipelines.schemas import PipelineCreate, PipelineUpdate

LOCKED_STATES = (PipelineStatus.STARTING, PipelineStatus.RUNNING, PipelineStatus.PAUSED, PipelineStatus.STOPPING)


def get_pipeline(session: Session, pipeline_id: uuid.UUID, for_update: bool = False) -> Pipeline:
    query = select(Pipeline).where(Pipeline.id == pipeline_id, Pipeline.deleted_at.is_(None))
    if for_update:  # and refreshed: a row read earlier in this session may have changed before the lock
        query = query.with_for_update().execution_options(populate_existing=True)
    pipeline = session.scalar(query)
    if pipeline is None:
        raise NotFound("Pipeline not found")
    return pipeline


def get_pipeline_for(session: Session, actor: Actor, pipeline_id: uuid.UUID,
                     needed: AccessLevel = AccessLevel.VIEW, for_update: bool = False) -> Pipeline:
    """The pipeline if the caller may act on it at `needed` level: 404 if they cannot see it, 403 if too low."""
    pipeline = get_pipeline(session, pipeline_id, for_update=for_update)
    policy.require_access(session, actor, pipeline, needed)
    return pipeline


def require_source_operate(session: Session, actor: Actor, pipeline: Pipeline) -> None:
    """Adding or resyncing a table reads rows of the source that the pipeline did not read before (or reads them
    again): like building a pipeline, that needs operate on the source connection, not only on the pipeline.
    403 either way (the pipeline is visible, its connection's details are not), without naming the connection."""
    source = session.get(Connection, pipeline.source_connection_id)
    level = policy.level_on(session, actor, source) if source is not None and source.deleted_at is None else None
    if level is None or level.rank < AccessLevel.OPERATE.rank:
        raise Forbidden("Adding or resyncing a table needs operate access on the pipeline's source connection",
                        {"needed": AccessLevel.OPERATE.value, "on": "source_connection"})


def list_pipelines(session: Session, actor: Actor, limit: int, offset: int, status: PipelineStatus | None = None,
                   mode=None, q: str | None = None) -> tuple[list[Pipeline], int]:
    query = select(Pipeline).where(Pipeline.deleted_at.is_(None), policy.visible(actor, ResourceType.PIPELINE))
    if status is not None:
        query = query.where(Pipeline.status == status)
    if mode is not None:
        query = query.where(Pipeline.mode == mode)
    if q:
        query = query.where(Pipeline.name.ilike("%" + q.replace("%", r"\%").replace("_", r"\_") + "%"))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    items = session.scalars(query.order_by(Pipeline.created_at.desc(), Pipeline.id).limit(limit).offset(offset))
    return list(items), total


def _connection(session: Session, actor: Actor, connection_id: uuid.UUID, expected: ConnectionType,
                role: str) -> Connection:
    """A connection the caller may build a pipeline on (operate); one they cannot see reads as missing."""
    conn = session.scalar(select(Connection).where(Connection.id == connection_id, Connection.deleted_at.is_(None),
                                                   policy.visible(actor, ResourceType.CONNECTION)))
    if conn is None:
        raise Unprocessable(f"{role} connection not found", {"field": f"{role}_connection_id"})
    policy.require_access(session, actor, conn, AccessLevel.OPERATE)
    if conn.connection_type != expected:
        raise Unprocessable(f"{role} connection {conn.name!r} is a {conn.connection_type.value}, "
                            f"not a {expected.value}", {"field": f"{role}_connection_id"})
    return conn


def _verify_tables(box: SecretBox, outbound: OutboundPolicy, source: Connection, tables: list[str],
                   timeout: int) -> dict[str, int]:
    """Every selected table must exist in the source; returns the estimated row count of each."""
    try:
        listed = introspect(box, outbound, source, timeout, inspect.list_tables, mariadb_catalog.list_tables)
        found = {f"{t['schema']}.{t['table']}": t for t in listed}
    except OutboundRefused as exc:
        raise Unprocessable(f"Cannot verify tables: source {source.name!r} is not allowed by policy: {exc.reason}",
                            {"field": "source_connection_id"}) from None
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


def create_pipeline(session: Session, box: SecretBox, outbound: OutboundPolicy, actor: Actor, body: PipelineCreate,
                    timeout: int) -> Pipeline:
    _ensure_unique_name(session, body.name)
    source = _connection(session, actor, body.source_connection_id, ConnectionType.SOURCE, "source")
    _connection(session, actor, body.target_connection_id, ConnectionType.TARGET, "target")
    estimates = _verify_tables(box, outbound, source, body.tables, timeout)
    pipeline = Pipeline(name=body.name, source_connection_id=source.id, target_connection_id=body.target_connection_id,
                        mode=body.mode, created_by=actor.username, owner_id=actor.user_id, kafka_topics=[],
                        schema_change_policy=body.schema_change_policy,
                        drop_removed_columns=body.drop_removed_columns)
    _set_tables(pipeline, body.tables, estimates)
    session.add(pipeline)
    session.flush()
    record(session, actor, "pipeline.create", f"pipeline:{pipeline.id}",
           {"name": pipeline.name, "mode": pipeline.mode.value, "tables": body.tables,
            "schema_change_policy": pipeline.schema_change_policy.value})
    return pipeline


def _set_wal_thresholds(pipeline: Pipeline, body: PipelineUpdate) -> None:
    warning = body.wal_warning_bytes or pipeline.wal_warning_bytes
    critical = body.wal_critical_bytes or pipeline.wal_critical_bytes
    if critical <= warning:
        raise Unprocessable(f"wal_critical_bytes ({critical}) must be greater than wal_warning_bytes ({warning})",
                            {"wal_warning_bytes": warning, "wal_critical_bytes": critical})
    pipeline.wal_warning_bytes, pipeline.wal_critical_bytes = warning, critical


def _require_editable(pipeline: Pipeline, body: PipelineUpdate) -> None:
    if pipeline.status in LOCKED_STATES and not body.only_thresholds():
        raise Conflict(f"Pipeline is {pipeline.status.value}; stop it before editing")


def update_pipeline(session: Session, box: SecretBox, outbound: OutboundPolicy, actor: Actor,
                    pipeline_id: uuid.UUID, body: PipelineUpdate, timeout: int) -> Pipeline:
    estimates = None
    pipeline = get_pipeline_for(session, actor, pipeline_id, AccessLevel.MANAGE)
    if body.tables is not None and body.tables != [t.qualified_name for t in pipeline.tables]:
        # The new selection is checked against the source before the row lock (a network call).
        _require_editable(pipeline, body)
        source = _connection(session, actor, pipeline.source_connection_id, ConnectionType.SOURCE, "source")
        session.commit()
        estimates = _verify_tables(box, outbound, source, body.tables, timeout)
    pipeline = get_pipeline_for(session, actor, pipeline_id, AccessLevel.MANAGE, for_update=True)
    _require_editable(pipeline, body)
    changes = body.model_dump(exclude_unset=True)
    _set_wal_thresholds(pipeline, body)
    if body.name is not None:
        _ensure_unique_name(session, body.name, exclude=pipeline.id)
        pipeline.name = body.name
    # Re-pointing the pipeline, or changing what it reads, uses a connection: that needs operate on it, as at
    # creation. Renaming or switching the mode does not.
    if body.target_connection_id is not None and body.target_connection_id != pipeline.target_connection_id:
        pipeline.target_connection_id = _connection(session, actor, body.target_connection_id,
                                                    ConnectionType.TARGET, "target").id
    if body.mode is not None:
        pipeline.mode = body.mode
    if body.schema_change_policy is not None:
        pipeline.schema_change_policy = body.schema_change_policy
    if body.drop_removed_columns is not None:
        pipeline.drop_removed_columns = body.drop_removed_columns
    if body.tables is not None and body.tables != [t.qualified_name for t in pipeline.tables]:
        if estimates is None:  # the selection changed under us since it was verified
            raise Conflict("The pipeline's tables changed meanwhile; reload and try again")
        _set_tables(pipeline, body.tables, estimates)
    record(session, actor, "pipeline.update", f"pipeline:{pipeline.id}", {k: str(v) for k, v in changes.items()})
    return pipeline
