"""/api/v1/monitoring: events and the event logger (dashboard, metrics and lag follow)."""

import uuid
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Query, Request

from cdcflow.audit.service import record
from cdcflow.core.deps import PipelineOperator, Reader, SessionDep
from cdcflow.monitoring.events import list_events

router = APIRouter(prefix="/monitoring", tags=["monitoring"])
EventType = Literal["insert", "update", "delete", "truncate"]


@router.get("/events")
def get_events(actor: Reader, session: SessionDep, limit: int = Query(100, ge=1, le=1000),
               before_id: int | None = Query(None, ge=1), pipeline_id: uuid.UUID | None = None,
               table: str | None = Query(None, max_length=130), event_type: EventType | None = None,
               since: datetime | None = None, until: datetime | None = None) -> dict[str, Any]:
    """CDC events, newest first. Pass `next_before_id` from a page as `before_id` for the next one."""
    return list_events(session, limit, before_id, pipeline_id, table, event_type, since, until)


@router.get("/event-logger-status")
def event_logger_status(actor: Reader, request: Request) -> dict[str, Any]:
    return request.app.state.event_logger.status()


@router.post("/event-logger/restart")
def restart_event_logger(actor: PipelineOperator, request: Request, session: SessionDep) -> dict[str, Any]:
    request.app.state.event_logger.restart()
    record(session, actor, "event_logger.restart")
    return request.app.state.event_logger.status()
