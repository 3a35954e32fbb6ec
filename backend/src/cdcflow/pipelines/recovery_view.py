"""What a pipeline can do now, for the status response and the UI's buttons (pure: reads the row and Connect's view)."""

from typing import Any

from cdcflow.models import Pipeline, PipelineStatus
from cdcflow.pipelines.states import allowed_actions

# The order worth trying. "restart_failed" and "review_schema" are the table's restart and resume, offered when there
# is something to restart or to review; delete is not a recovery step.
_ORDER = ("restart_failed", "review_schema", "start", "resume", "resync", "add_table", "remove_table", "pause", "stop",
          "reset")


def available_actions(pipeline: Pipeline, connect: dict[str, Any]) -> list[str]:
    """What the user can do now, in the order worth trying (the UI shows these as buttons): the lifecycle table's
    actions for the status (pipelines/states.py), and what Connect's view and held schema changes add."""
    s = PipelineStatus(pipeline.status)
    allowed = set(allowed_actions(s)) - {"restart", "delete"}
    failed = connect.get("reachable") and any(
        t["state"] == "FAILED" for role in ("source", "sink") for t in ((connect.get(role) or {}).get("tasks") or []))
    has_connectors = any((connect.get(role) or {}).get("exists") for role in ("source", "sink"))
    if "restart" in allowed_actions(s) and (failed or (s == PipelineStatus.ERROR and has_connectors)):
        allowed.add("restart_failed")
    if s == PipelineStatus.PAUSED and any((t.schema_state or {}).get("pending") for t in pipeline.tables):
        allowed.add("review_schema")
    return [a for a in _ORDER if a in allowed]


def schema_pending(pipeline: Pipeline) -> list[dict[str, Any]]:
    """Schema changes held for review, each with the table it belongs to."""
    return [{"table": t.qualified_name, **change} for t in pipeline.tables
            for change in (t.schema_state or {}).get("pending", [])]
