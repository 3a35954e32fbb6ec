"""GET /status and GET /progress: the stored state merged with what Kafka Connect reports, and load figures."""

import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cdcflow.engine.connect.client import ConnectClient, ConnectError, summarize_trace
from cdcflow.engine.names import ResourceNames
from cdcflow.models import Pipeline, PipelineRun, PipelineStatus
from cdcflow.pipelines.recovery_view import available_actions, schema_pending


def connector_view(status: dict[str, Any] | None) -> dict[str, Any]:
    if status is None:
        return {"exists": False, "state": None, "worker_id": None, "tasks": []}
    return {
        "exists": True,
        "state": status["connector"]["state"],
        "worker_id": status["connector"].get("worker_id"),
        "error": summarize_trace(status["connector"]["trace"]) if status["connector"].get("trace") else None,
        "tasks": [{"id": t["id"], "state": t["state"], "worker_id": t.get("worker_id"),
                   "error": summarize_trace(t["trace"]) if t.get("trace") else None, "trace": t.get("trace")}
                  for t in status.get("tasks", [])],
    }


def connect_snapshot(connect: ConnectClient, pipeline: Pipeline) -> dict[str, Any]:
    names = ResourceNames(pipeline.id)
    try:
        return {"reachable": True, "error": None,
                "source": connector_view(connect.status_or_none(names.source_connector)),
                "sink": connector_view(connect.status_or_none(names.sink_connector))}
    except ConnectError as exc:
        return {"reachable": False, "error": str(exc), "source": None, "sink": None}


def health(pipeline: Pipeline, connect: dict[str, Any]) -> str:
    if pipeline.status == PipelineStatus.ERROR:
        return "error"
    if pipeline.status not in (PipelineStatus.RUNNING, PipelineStatus.PAUSED):
        return "ok"
    if not connect["reachable"]:
        return "degraded"
    states = [c["state"] for c in (connect["source"], connect["sink"])] + \
             [t["state"] for c in (connect["source"], connect["sink"]) for t in c["tasks"]]
    if "FAILED" in states or None in states:
        return "error"
    want = "PAUSED" if pipeline.status == PipelineStatus.PAUSED else "RUNNING"
    return "ok" if all(s == want for s in states) else "degraded"


def pipeline_status(pipeline: Pipeline, connect: ConnectClient) -> dict[str, Any]:
    snapshot = connect_snapshot(connect, pipeline)
    return {"id": pipeline.id, "name": pipeline.name, "status": pipeline.status,
            "full_load_status": pipeline.full_load_status, "cdc_status": pipeline.cdc_status,
            "last_error": pipeline.last_error, "health": health(pipeline, snapshot), "connect": snapshot,
            "updated_at": pipeline.updated_at, "available_actions": available_actions(pipeline, snapshot),
            "schema_pending": schema_pending(pipeline)}


def pipeline_progress(session: Session, pipeline: Pipeline) -> dict[str, Any]:
    now = time.time()
    tables = []
    for t in pipeline.tables:
        elapsed = ((t.completed_at.timestamp() if t.completed_at else now) - t.started_at.timestamp()) \
            if t.started_at else 0
        rate = t.rows_copied / elapsed if elapsed > 0 else None
        estimate = max(t.rows_estimated or 0, t.rows_copied)
        percent = 100.0 if t.state == "COMPLETED" else (
            round(min(99.9, 100.0 * t.rows_copied / estimate), 1) if estimate else 0.0)
        eta = (estimate - t.rows_copied) / rate if rate and t.state == "COPYING" else None
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
    total_estimated = sum(max(t["rows_estimated"] or 0, t["rows_copied"]) for t in tables)
    done = all(t["state"] == "COMPLETED" for t in tables) and bool(tables)
    return {
        "id": pipeline.id, "status": pipeline.status, "full_load_status": pipeline.full_load_status,
        "tables": tables, "rows_copied": total_rows, "rows_estimated": total_estimated,
        "percent": 100.0 if done else (round(min(99.9, 100.0 * total_rows / total_estimated), 1)
                                       if total_estimated else 0.0),
        "last_run": None if last_run is None else {
            "started_at": last_run.started_at, "completed_at": last_run.completed_at, "status": last_run.status,
            "snapshot_lsn": last_run.run_metadata.get("snapshot_lsn"),
            "rows": last_run.run_metadata.get("rows"),
            "rows_per_second": last_run.run_metadata.get("rows_per_second"),
            "seconds": last_run.run_metadata.get("seconds")},
        "as_of": datetime.now(UTC),
    }
