"""/api/v1/monitoring: events, dashboard, metrics, lag, time series, retention, and the event logger."""

import uuid
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Query, Request

from cdcflow.access.policy import scope_for, visible_pipeline_ids
from cdcflow.audit.service import record
from cdcflow.core.deps import PlatformOperator, Reader, SessionDep, UserAdmin
from cdcflow.core.errors import ServiceUnavailable
from cdcflow.core.validation import BIGINT_MAX
from cdcflow.engine.postgres.inspect import EndpointUnreachable
from cdcflow.monitoring import service
from cdcflow.monitoring.events import list_events
from cdcflow.monitoring.lag import last_event, pipeline_lag
from cdcflow.monitoring.latency import WINDOW_SECONDS, pipeline_latency
from cdcflow.monitoring.schemas import (
    Dashboard,
    EventLoggerStatus,
    EventsPage,
    LsnLatency,
    Metrics,
    PipelineLatency,
    PlatformHealth,
    PurgeResult,
    Timeseries,
)
from cdcflow.pipelines.service import get_pipeline_for

router = APIRouter(prefix="/monitoring", tags=["monitoring"])
EventType = Literal["insert", "update", "delete", "truncate"]


@router.get("/events", response_model=EventsPage)
def get_events(actor: Reader, session: SessionDep, limit: int = Query(100, ge=1, le=1000),
               before_id: int | None = Query(None, ge=1, le=BIGINT_MAX), pipeline_id: uuid.UUID | None = None,
               table: str | None = Query(None, max_length=130), event_type: EventType | None = None,
               since: datetime | None = None, until: datetime | None = None) -> dict[str, Any]:
    """CDC events of the pipelines the caller may see, newest first. Pass `next_before_id` from a page as
    `before_id` for the next one."""
    scope = scope_for(session, actor, pipeline_id)
    return list_events(session, limit, before_id, scope, table, event_type, since, until)


@router.get("/event-logger-status", response_model=EventLoggerStatus)
def event_logger_status(actor: Reader, request: Request, session: SessionDep) -> dict[str, Any]:
    """The logger's health. Partitions and lag are those of the caller's pipelines; the process-wide counters
    (events/s, stored, duplicates, tombstones) count every pipeline, so only admins get them."""
    return service.scoped_logger_status(request.app.state.event_logger.status(),
                                        visible_pipeline_ids(session, actor))


@router.post("/event-logger/restart", response_model=EventLoggerStatus)
def restart_event_logger(actor: PlatformOperator, request: Request, session: SessionDep) -> dict[str, Any]:
    """Admins only: the logger is shared by every pipeline, whoever owns it."""
    request.app.state.event_logger.restart()
    record(session, actor, "event_logger.restart")
    return request.app.state.event_logger.status()


@router.get("/health", response_model=PlatformHealth)
def get_health(actor: Reader, session: SessionDep, request: Request) -> dict[str, Any]:
    """Broker, Kafka Connect and event logger as observed in the last few seconds, and every pipeline's health
    (ok | degraded | error) with its problems."""
    return service.platform_health(session, request.app.state.health, visible_pipeline_ids(session, actor))


@router.get("/dashboard", response_model=Dashboard)
def get_dashboard(actor: Reader, session: SessionDep, request: Request,
                  pipeline_id: uuid.UUID | None = None) -> dict[str, Any]:
    """Counts exactly as the seed's aggregation over live CDC rows, served from trigger-kept counters: of one
    pipeline, or of every pipeline the caller may see."""
    scope = scope_for(session, actor, pipeline_id)
    return service.dashboard(session, request.app.state.offsets, pipeline_id, scope)


@router.get("/metrics", response_model=Metrics, response_model_exclude_unset=True)
def get_metrics(actor: Reader, session: SessionDep, request: Request,
                pipeline_id: uuid.UUID | None = None) -> dict[str, Any]:
    scope = scope_for(session, actor, pipeline_id)
    snapshot = request.app.state.offsets.snapshot
    lag = {str(pid): o.lag for pid, o in snapshot.items() if scope is None or pid in scope}
    dash = service.dashboard(session, request.app.state.offsets, pipeline_id, scope)
    return {"pipeline_id": pipeline_id, **service.rates(session, scope),
            "tables": service.per_table(session, scope), "error_count": dash["error_count"],
            "last_event_at": dash["last_event_at"], "replication": lag,
            "lag_bytes": sum((v or {}).get("lag_bytes") or 0 for v in lag.values()),
            "lag_seconds": max([(v or {}).get("lag_seconds") or 0 for v in lag.values()], default=0),
            "as_of": dash["as_of"]}


# A plain `def`, like every route that touches the database: FastAPI runs it in its threadpool, off the event loop.
@router.get("/pipelines/{pipeline_id}/lsn-latency", response_model=LsnLatency, response_model_exclude_unset=True)
def get_lsn_latency(pipeline_id: uuid.UUID, actor: Reader, session: SessionDep, request: Request) -> dict[str, Any]:
    get_pipeline_for(session, actor, pipeline_id)
    try:
        lag = pipeline_lag(request.app.state.engine_context, pipeline_id)
    except EndpointUnreachable as exc:
        raise ServiceUnavailable(f"Cannot reach the source: {exc}") from None
    newest = last_event(session, pipeline_id)
    return {"pipeline_id": pipeline_id, **(lag or {}), "last_event": newest,
            "latency": service.latency_percentiles(session, pipeline_id)}


@router.get("/pipelines/{pipeline_id}/latency", response_model=PipelineLatency)
def get_stage_latency(pipeline_id: uuid.UUID, actor: Reader, session: SessionDep,
                      request: Request) -> dict[str, Any]:
    """Latency by stage (source commit -> Kafka -> target; -> event logger; -> Socket.IO), p50/p99 over the
    pipeline's most recent events, each read from where it happened; null where not observed."""
    get_pipeline_for(session, actor, pipeline_id)
    emitted = request.app.state.realtime.emit_delays(pipeline_id, WINDOW_SECONDS)
    return pipeline_latency(request.app.state.engine_context, pipeline_id, emitted)


@router.get("/timeseries", response_model=Timeseries, response_model_exclude_unset=True)
def get_timeseries(actor: Reader, session: SessionDep, pipeline_id: uuid.UUID | None = None,
                   metric: Literal["events", "latency"] = "events",
                   bucket: Literal["minute", "hour"] = "minute",
                   hours: int = Query(1, ge=1, le=24 * 90)) -> dict[str, Any]:
    return service.timeseries(session, scope_for(session, actor, pipeline_id), metric, bucket, hours)


@router.post("/retention/purge", response_model=PurgeResult)
def purge(actor: UserAdmin, request: Request, session: SessionDep,
          older_than_days: float = Query(..., ge=0, le=3650)) -> dict[str, Any]:
    """Delete CDC events older than the cut-off, in batches; dashboard counters follow."""
    deleted = service.purge_events(request.app.state.session_factory, older_than_days)
    record(session, actor, "events.purge", None, {"older_than_days": older_than_days, "deleted": deleted})
    return {"deleted": deleted, "older_than_days": older_than_days}
