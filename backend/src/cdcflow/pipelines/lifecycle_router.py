"""/api/v1/pipelines/{id}: start, stop, pause, resume, status, progress."""

import uuid
from typing import Any

from fastapi import APIRouter, Request

from cdcflow.core.deps import PipelineOperator, Reader, SessionDep
from cdcflow.models import AccessLevel
from cdcflow.monitoring.schemas import PipelineProgressView, PipelineStatusView, SyncStats
from cdcflow.pipelines import lifecycle, service
from cdcflow.pipelines.router import public_for
from cdcflow.pipelines.schemas import PipelinePublic
from cdcflow.pipelines.status import pipeline_progress, pipeline_status
from cdcflow.pipelines.verify import sync_stats

router = APIRouter(prefix="/pipelines", tags=["pipeline lifecycle"])


@router.post("/{pipeline_id}/start", response_model=PipelinePublic, status_code=202)
def start_pipeline(pipeline_id: uuid.UUID, actor: PipelineOperator, session: SessionDep,
                   request: Request) -> PipelinePublic:
    """STARTING now; the full load and connectors run in the background (watch /status and /progress).
    On a PAUSED pipeline this resumes it."""
    state = request.app.state
    return public_for(session, actor, lifecycle.start(session, state.engine_context, state.jobs, actor, pipeline_id))


@router.post("/{pipeline_id}/stop", response_model=PipelinePublic, status_code=202)
def stop_pipeline(pipeline_id: uuid.UUID, actor: PipelineOperator, session: SessionDep,
                  request: Request) -> PipelinePublic:
    """STOPPING now, STOPPED once both connectors stopped (offsets and slot kept). Cancels a start in progress."""
    state = request.app.state
    return public_for(session, actor, lifecycle.stop(session, state.engine_context, state.jobs, actor, pipeline_id))


@router.post("/{pipeline_id}/pause", response_model=PipelinePublic)
def pause_pipeline(pipeline_id: uuid.UUID, actor: PipelineOperator, session: SessionDep,
                   request: Request) -> PipelinePublic:
    return public_for(session, actor, lifecycle.pause(session, request.app.state.engine_context, actor, pipeline_id))


@router.post("/{pipeline_id}/resume", response_model=PipelinePublic)
def resume_pipeline(pipeline_id: uuid.UUID, actor: PipelineOperator, session: SessionDep,
                    request: Request) -> PipelinePublic:
    return public_for(session, actor, lifecycle.resume(session, request.app.state.engine_context, actor,
                                                         pipeline_id))


@router.get("/{pipeline_id}/status", response_model=PipelineStatusView)
def get_status(pipeline_id: uuid.UUID, actor: Reader, session: SessionDep, request: Request) -> dict[str, Any]:
    """Stored state, Connect's view, and `health` (ok | degraded | error) with its `problems`, judged from fresh
    observations of the broker, Connect, the sink's consumer group, the source's slot and the event logger; `wal`
    holds the slot guardian's figures."""
    pipeline = service.get_pipeline_for(session, actor, pipeline_id)
    with request.app.state.engine_context.connect() as connect:
        return pipeline_status(session, pipeline, connect, request.app.state.health,
                               request.app.state.engine_context)


@router.get("/{pipeline_id}/progress", response_model=PipelineProgressView)
def get_progress(pipeline_id: uuid.UUID, actor: Reader, session: SessionDep) -> dict[str, Any]:
    return pipeline_progress(session, service.get_pipeline_for(session, actor, pipeline_id))


@router.post("/{pipeline_id}/sync-stats", response_model=SyncStats)
def post_sync_stats(pipeline_id: uuid.UUID, actor: PipelineOperator, session: SessionDep,
                    request: Request) -> dict[str, Any]:
    """Compare source and target per table (row count and checksum over all rows); the result is stored."""
    pipeline = service.get_pipeline_for(session, actor, pipeline_id, AccessLevel.OPERATE)
    return sync_stats(session, request.app.state.engine_context, pipeline)
