"""GET /status and GET /progress: the stored state, what Kafka Connect reports, the health judged from fresh
observations of the whole data plane, and load figures."""

import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cdcflow.engine.connect.client import ConnectClient, ConnectError
from cdcflow.engine.connect.view import (
    connector_snapshot,
    connector_statuses,
    snapshot_of,
    unreachable,
)
from cdcflow.models import Pipeline, PipelineRun
from cdcflow.monitoring.monitor import HealthMonitor
from cdcflow.monitoring.observe import ConnectObservation
from cdcflow.pipelines.capabilities import database_types, unavailable_now
from cdcflow.pipelines.recovery_view import available_actions, schema_pending


def connect_snapshot(connect: ConnectClient, pipeline: Pipeline) -> dict[str, Any]:
    return connector_snapshot(connect, pipeline.id)


def _connect_view(connect: ConnectClient, pipeline: Pipeline) -> tuple[dict[str, Any], ConnectObservation]:
    """The pipeline's connectors as Connect reports them now: the response's view, and the same as an
    observation for the health rules."""
    now = time.time()
    try:
        raw = connector_statuses(connect, pipeline.id)
    except ConnectError as exc:
        return unreachable(str(exc)), ConnectObservation(False, now, str(exc))
    return snapshot_of(pipeline.id, raw), ConnectObservation(True, now, None,
                                                            {n: s for n, s in raw.items() if s is not None})


def pipeline_status(session: Session, pipeline: Pipeline, connect: ConnectClient,
                    monitor: HealthMonitor, ctx=None) -> dict[str, Any]:
    """Stored state, Connect's view, and health judged from the monitor's observations (at most a few seconds
    old) with Connect's answer from just now. `ctx` (the engine context): check on the source whether resync and
    add-table can work; without it only the database types' gaps are reported."""
    snapshot, connect_seen = _connect_view(connect, pipeline)
    actions = available_actions(pipeline, snapshot)
    types = database_types(session, [pipeline])[pipeline.id]
    unavailable = unavailable_now(ctx, pipeline, types, actions)
    monitor.observe_now(session, pipeline)
    report = monitor.pipeline_report(pipeline, connect=connect_seen)
    return {"id": pipeline.id, "name": pipeline.name, "status": pipeline.status,
            "full_load_status": pipeline.full_load_status, "cdc_status": pipeline.cdc_status,
            "last_error": pipeline.last_error, "health": report.health, "problems": report.problems,
            "wal": report.wal, "observed_at": report.observed_at, "connect": snapshot,
            "updated_at": pipeline.updated_at, "available_actions": [a for a in actions if a not in unavailable],
            "unavailable_actions": unavailable, "source_database_type": types[0],
            "schema_pending": schema_pending(pipeline)}


def table_percent(state: str, rows_copied: int, rows_estimated: int | None) -> float | None:
    """None means unknown: no estimate (a table without statistics that could not be counted), or more rows
    copied than a zero estimate allowed for. Never a made-up 99.9 %."""
    if state == "COMPLETED":
        return 100.0
    if rows_copied == 0:
        return 0.0
    if not rows_estimated:
        return None
    return round(min(99.9, 100.0 * rows_copied / max(rows_estimated, rows_copied)), 1)


def pipeline_progress(session: Session, pipeline: Pipeline) -> dict[str, Any]:
    now = time.time()
    tables = []
    for t in pipeline.tables:
        elapsed = ((t.completed_at.timestamp() if t.completed_at else now) - t.started_at.timestamp()) \
            if t.started_at else 0
        rate = t.rows_copied / elapsed if elapsed > 0 else None
        percent = table_percent(t.state, t.rows_copied, t.rows_estimated)
        left = max(t.rows_estimated, t.rows_copied) - t.rows_copied if t.rows_estimated else None
        eta = left / rate if rate and left is not None and t.state == "COPYING" else None
        tables.append({"schema_name": t.schema_name, "table": t.table_name, "state": t.state,
                       "rows_copied": t.rows_copied, "rows_estimated": t.rows_estimated,
                       "bytes_copied": t.bytes_copied, "percent": percent,
                       "rows_per_second": round(rate, 1) if rate else None,
                       "eta_seconds": round(eta, 1) if eta is not None else None,
                       "started_at": t.started_at, "completed_at": t.completed_at, "error": t.error})
    last_run = session.scalar(select(PipelineRun).where(PipelineRun.pipeline_id == pipeline.id,
                                                        PipelineRun.run_type == "FULL_LOAD")
                              .order_by(PipelineRun.started_at.desc()).limit(1))
    total_rows = sum(t["rows_copied"] for t in tables)
    unknown = any(t["state"] != "COMPLETED" and t["rows_estimated"] is None or t["percent"] is None for t in tables)
    total_estimated = None if unknown else sum(max(t["rows_estimated"] or 0, t["rows_copied"]) for t in tables)
    done = all(t["state"] == "COMPLETED" for t in tables) and bool(tables)
    return {
        "id": pipeline.id, "status": pipeline.status, "full_load_status": pipeline.full_load_status,
        "tables": tables, "rows_copied": total_rows, "rows_estimated": total_estimated,
        "percent": 100.0 if done else table_percent("", total_rows, total_estimated),
        "last_run": None if last_run is None else {
            "started_at": last_run.started_at, "completed_at": last_run.completed_at, "status": last_run.status,
            "snapshot_lsn": last_run.run_metadata.get("snapshot_lsn"),
            "rows": last_run.run_metadata.get("rows"),
            "rows_per_second": last_run.run_metadata.get("rows_per_second"),
            "seconds": last_run.run_metadata.get("seconds")},
        "as_of": datetime.now(UTC),
    }
