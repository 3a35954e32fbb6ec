"""What a pipeline can do now, for the status response and the UI's buttons (pure: reads the row and Connect's view)."""

from typing import Any

from cdcflow.models import Pipeline, PipelineStatus


def available_actions(pipeline: Pipeline, connect: dict[str, Any]) -> list[str]:
    """What the user can do now, in the order worth trying (the UI shows these as buttons)."""
    failed = connect.get("reachable") and any(
        t["state"] == "FAILED" for role in ("source", "sink") for t in ((connect.get(role) or {}).get("tasks") or []))
    pending = any((t.schema_state or {}).get("pending") for t in pipeline.tables)
    s = pipeline.status
    if s == PipelineStatus.ERROR:
        has_connectors = any((connect.get(role) or {}).get("exists") for role in ("source", "sink"))
        return (["restart_failed"] if failed or has_connectors else []) + ["start", "reset", "stop"]
    if s == PipelineStatus.PAUSED:
        return (["review_schema"] if pending else []) + ["resume", "remove_table", "reset", "stop"]
    if s == PipelineStatus.RUNNING:
        return (["restart_failed"] if failed else []) + ["resync", "add_table", "remove_table", "pause", "stop",
                                                         "reset"]
    if s == PipelineStatus.STOPPED:
        return ["start", "reset"]
    if s == PipelineStatus.NOT_STARTED:
        return ["start"]
    return []


def schema_pending(pipeline: Pipeline) -> list[dict[str, Any]]:
    """Schema changes held for review, each with the table it belongs to."""
    return [{"table": t.qualified_name, **change} for t in pipeline.tables
            for change in (t.schema_state or {}).get("pending", [])]
