"""/api/v1/pipelines (CRUD)."""

import uuid

from fastapi import APIRouter, Query, Request, Response

from cdcflow.core.deps import PipelineWriter, Reader, SecretBoxDep, SessionDep, SettingsDep
from cdcflow.models import Pipeline, PipelineMode, PipelineStatus
from cdcflow.pipelines import lifecycle, service
from cdcflow.pipelines.schemas import (
    PipelineCreate,
    PipelineList,
    PipelinePublic,
    PipelineTablePublic,
    PipelineUpdate,
)

router = APIRouter(prefix="/pipelines", tags=["pipelines"])


def to_public(p: Pipeline) -> PipelinePublic:
    return PipelinePublic(
        id=p.id, name=p.name, source_connection_id=p.source_connection_id,
        target_connection_id=p.target_connection_id, mode=p.mode, status=p.status,
        full_load_status=p.full_load_status, cdc_status=p.cdc_status,
        debezium_connector_name=p.debezium_connector_name, sink_connector_name=p.sink_connector_name,
        kafka_topics=list(p.kafka_topics or []), last_error=p.last_error, created_at=p.created_at,
        updated_at=p.updated_at, schema_change_policy=p.schema_change_policy,
        drop_removed_columns=p.drop_removed_columns,
        tables=[PipelineTablePublic(schema_name=t.schema_name, table=t.table_name, state=t.state,
                                    rows_copied=t.rows_copied, rows_estimated=t.rows_estimated,
                                    bytes_copied=t.bytes_copied, error=t.error,
                                    resync_state=(t.schema_state or {}).get("resync", {}).get("state"),
                                    ignored_columns=list((t.schema_state or {}).get("ignored", [])))
                for t in p.tables])


@router.get("", response_model=PipelineList)
def list_pipelines(actor: Reader, session: SessionDep, limit: int = Query(50, ge=1, le=200),
                   offset: int = Query(0, ge=0, le=1_000_000), status: PipelineStatus | None = None,
                   mode: PipelineMode | None = None, q: str | None = Query(None, max_length=100)) -> PipelineList:
    items, total = service.list_pipelines(session, limit, offset, status, mode, q)
    return PipelineList(items=[to_public(p) for p in items], total=total, limit=limit, offset=offset)


@router.post("", response_model=PipelinePublic, status_code=201)
def create_pipeline(body: PipelineCreate, actor: PipelineWriter, session: SessionDep, box: SecretBoxDep,
                    settings: SettingsDep) -> PipelinePublic:
    pipeline = service.create_pipeline(session, box, actor, body, settings.connection_test_timeout_seconds)
    session.refresh(pipeline)
    return to_public(pipeline)


@router.get("/{pipeline_id}", response_model=PipelinePublic)
def get_pipeline(pipeline_id: uuid.UUID, actor: Reader, session: SessionDep) -> PipelinePublic:
    return to_public(service.get_pipeline(session, pipeline_id))


@router.put("/{pipeline_id}", response_model=PipelinePublic)
def update_pipeline(pipeline_id: uuid.UUID, body: PipelineUpdate, actor: PipelineWriter, session: SessionDep,
                    box: SecretBoxDep, settings: SettingsDep) -> PipelinePublic:
    pipeline = service.update_pipeline(session, box, actor, pipeline_id, body, settings.connection_test_timeout_seconds)
    session.flush()
    session.refresh(pipeline)
    return to_public(pipeline)


@router.delete("/{pipeline_id}", status_code=204)
def delete_pipeline(pipeline_id: uuid.UUID, actor: PipelineWriter, session: SessionDep, request: Request,
                    force: bool = False) -> Response:
    """Removes connectors, slot, publication and topics, then soft-deletes (not while running: 409)."""
    lifecycle.delete(session, request.app.state.engine_context, actor, pipeline_id, force)
    return Response(status_code=204)
