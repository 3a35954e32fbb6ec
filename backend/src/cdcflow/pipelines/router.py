"""/api/v1/pipelines (CRUD)."""

import uuid

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.orm import Session

from cdcflow.access import policy
from cdcflow.core.deps import Actor, PipelineWriter, PolicyDep, Reader, SecretBoxDep, SessionDep, SettingsDep
from cdcflow.models import AccessLevel, Pipeline, PipelineMode, PipelineStatus
from cdcflow.monitoring.health import HealthReport
from cdcflow.pipelines import lifecycle, service, states
from cdcflow.pipelines.capabilities import database_types, gaps
from cdcflow.pipelines.schemas import (
    PipelineCreate,
    PipelineList,
    PipelinePublic,
    PipelineTablePublic,
    PipelineUpdate,
)

router = APIRouter(prefix="/pipelines", tags=["pipelines"])


def to_public(p: Pipeline, access: AccessLevel, report: HealthReport | None = None,
              types: tuple[str, str] = ("postgresql", "postgresql")) -> PipelinePublic:
    """`report`: the health monitor's latest judgement of the pipeline (retained WAL and health), when known;
    `types`: its source's and target's database types, which decide what it supports."""
    unsupported = gaps(*types)
    return PipelinePublic(
        id=p.id, name=p.name, source_connection_id=p.source_connection_id,
        target_connection_id=p.target_connection_id, mode=p.mode, status=p.status,
        full_load_status=p.full_load_status, cdc_status=p.cdc_status,
        debezium_connector_name=p.debezium_connector_name, sink_connector_name=p.sink_connector_name,
        kafka_topics=list(p.kafka_topics or []), last_error=p.last_error, created_at=p.created_at,
        updated_at=p.updated_at, owner_id=p.owner_id, access=access,
        wal_warning_bytes=p.wal_warning_bytes, wal_critical_bytes=p.wal_critical_bytes,
        retained_wal_bytes=report.wal.retained_bytes if report and report.wal else None,
        health=report.health if report else None, schema_change_policy=p.schema_change_policy,
        drop_removed_columns=p.drop_removed_columns,
        allowed_actions=[a for a in states.allowed_actions(p.status) if a not in unsupported],
        source_database_type=types[0], target_database_type=types[1], unavailable_actions=unsupported,
        tables=[PipelineTablePublic(schema_name=t.schema_name, table=t.table_name, state=t.state,
                                    rows_copied=t.rows_copied, rows_estimated=t.rows_estimated,
                                    bytes_copied=t.bytes_copied, error=t.error,
                                    resync_state=(t.schema_state or {}).get("resync", {}).get("state"),
                                    ignored_columns=list((t.schema_state or {}).get("ignored", [])))
                for t in p.tables])


def public_for(session: Session, actor: Actor, p: Pipeline, report: HealthReport | None = None) -> PipelinePublic:
    """The pipeline as the caller sees it (they passed the access check that fetched it)."""
    return to_public(p, policy.level_on(session, actor, p) or AccessLevel.VIEW, report,
                     database_types(session, [p])[p.id])


@router.get("", response_model=PipelineList)
def list_pipelines(actor: Reader, session: SessionDep, request: Request, limit: int = Query(50, ge=1, le=200),
                   offset: int = Query(0, ge=0, le=1_000_000), status: PipelineStatus | None = None,
                   mode: PipelineMode | None = None, q: str | None = Query(None, max_length=100)) -> PipelineList:
    """Each pipeline with the WAL its slot holds on the source (also while stopped) and its health, as of the
    health monitor's latest pass."""
    items, total = service.list_pipelines(session, actor, limit, offset, status, mode, q)
    access = policy.levels(session, actor, items)
    reports = request.app.state.health.reports
    types = database_types(session, items)
    return PipelineList(items=[to_public(p, access[p.id] or AccessLevel.VIEW, reports.get(p.id), types[p.id])
                               for p in items],
                        total=total, limit=limit, offset=offset)


@router.post("", response_model=PipelinePublic, status_code=201)
def create_pipeline(body: PipelineCreate, actor: PipelineWriter, session: SessionDep, box: SecretBoxDep,
                    settings: SettingsDep, outbound: PolicyDep) -> PipelinePublic:
    pipeline = service.create_pipeline(session, box, outbound, actor, body, settings.connection_test_timeout_seconds)
    session.refresh(pipeline)
    return to_public(pipeline, AccessLevel.MANAGE, None, database_types(session, [pipeline])[pipeline.id])


@router.get("/{pipeline_id}", response_model=PipelinePublic)
def get_pipeline(pipeline_id: uuid.UUID, actor: Reader, session: SessionDep, request: Request) -> PipelinePublic:
    pipeline = service.get_pipeline_for(session, actor, pipeline_id)
    return public_for(session, actor, pipeline, request.app.state.health.reports.get(pipeline.id))


@router.put("/{pipeline_id}", response_model=PipelinePublic)
def update_pipeline(pipeline_id: uuid.UUID, body: PipelineUpdate, actor: PipelineWriter, session: SessionDep,
                    box: SecretBoxDep, settings: SettingsDep, outbound: PolicyDep) -> PipelinePublic:
    pipeline = service.update_pipeline(session, box, outbound, actor, pipeline_id, body,
                                       settings.connection_test_timeout_seconds)
    session.flush()
    session.refresh(pipeline)
    return public_for(session, actor, pipeline)


@router.delete("/{pipeline_id}", status_code=204)
def delete_pipeline(pipeline_id: uuid.UUID, actor: PipelineWriter, session: SessionDep, request: Request,
                    force: bool = False) -> Response:
    """Removes connectors, slot, publication and topics, then soft-deletes (not while running: 409)."""
    lifecycle.delete(session, request.app.state.engine_context, actor, pipeline_id, force)
    return Response(status_code=204)
