"""A pipeline's two connectors as Kafka Connect reports them, in the shape the status API and the reconciler read."""

import uuid
from typing import Any

from cdcflow.engine.connect.client import ConnectClient, ConnectError, summarize_trace
from cdcflow.engine.names import ResourceNames


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


def connector_statuses(connect: ConnectClient, pipeline_id: uuid.UUID) -> dict[str, dict[str, Any] | None]:
    """Connect's raw status of the source and sink connector (None: missing); raises ConnectError."""
    names = ResourceNames(pipeline_id)
    return {name: connect.status_or_none(name) for name in (names.source_connector, names.sink_connector)}


def snapshot_of(pipeline_id: uuid.UUID, raw: dict[str, dict[str, Any] | None]) -> dict[str, Any]:
    names = ResourceNames(pipeline_id)
    return {"reachable": True, "error": None, "source": connector_view(raw[names.source_connector]),
            "sink": connector_view(raw[names.sink_connector])}


def unreachable(error: str) -> dict[str, Any]:
    return {"reachable": False, "error": error, "source": None, "sink": None}


def connector_snapshot(connect: ConnectClient, pipeline_id: uuid.UUID) -> dict[str, Any]:
    """{"reachable", "error", "source", "sink"}: Connect's view now, or why it could not be asked."""
    try:
        return snapshot_of(pipeline_id, connector_statuses(connect, pipeline_id))
    except ConnectError as exc:
        return unreachable(str(exc))
