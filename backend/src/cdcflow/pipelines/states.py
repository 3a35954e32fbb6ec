"""The pipeline lifecycle as data: which event is allowed from which status, and where it leads.

This module is the only writer of `Pipeline.status` (tests/test_unit_states.py scans the code for others). Callers
name what happened — a user action ("pause") or an outcome a job or a watcher saw ("connector_failed") — and
`fire` moves the pipeline, or raises Conflict when the event makes no sense from the current status.
"""

from typing import Literal, Protocol, get_args

from cdcflow.core.errors import Conflict
from cdcflow.models import PipelineStatus as S

# event -> (allowed from, status after it)
TRANSITIONS: dict[str, tuple[frozenset[S], S]] = {
    # ---- user actions (the API; `allowed_actions` offers these)
    "start": (frozenset({S.NOT_STARTED, S.STOPPED, S.ERROR}), S.STARTING),
    "resume": (frozenset({S.PAUSED}), S.RUNNING),
    "pause": (frozenset({S.RUNNING}), S.PAUSED),
    "stop": (frozenset({S.STARTING, S.RUNNING, S.PAUSED, S.ERROR}), S.STOPPING),
    "delete": (frozenset({S.NOT_STARTED, S.STOPPED, S.ERROR}), S.STOPPED),
    # Recovery (pipelines/recovery.py): failed tasks restarted, a fresh start from a new full load.
    "restart": (frozenset({S.RUNNING, S.ERROR}), S.RUNNING),
    "reset": (frozenset({S.RUNNING, S.PAUSED, S.ERROR, S.STOPPED}), S.STARTING),
    # Table changes on a live pipeline: the status stays, the connectors follow.
    "resync": (frozenset({S.RUNNING}), S.RUNNING),
    "add_table": (frozenset({S.RUNNING}), S.RUNNING),
    "remove_table": (frozenset({S.RUNNING, S.PAUSED}), S.RUNNING),
    # ---- outcomes of the start and stop jobs (pipelines/lifecycle_jobs.py)
    "started": (frozenset({S.STARTING}), S.RUNNING),  # both connectors RUNNING
    "loaded": (frozenset({S.STARTING}), S.STOPPED),  # a full-load-only pipeline finished its load
    "start_failed": (frozenset({S.STARTING}), S.ERROR),  # a start step (preflight, load, connectors) failed
    # A stop during STARTING: the start job undid its work (or a takeover found the cancel request).
    "cancel_start": (frozenset({S.STARTING}), S.STOPPED),
    # The stop job; also run for a start whose cancel request a takeover found (STARTING).
    "stopped": (frozenset({S.STOPPING, S.STARTING}), S.STOPPED),
    "stop_failed": (frozenset({S.STOPPING, S.STARTING}), S.ERROR),
    # A job whose API process died (pipelines/watchdog.py), or a reset that failed before its start.
    "interrupt": (frozenset({S.STARTING, S.STOPPING}), S.ERROR),
    "reset_failed": (frozenset({S.STARTING}), S.ERROR),
    # ---- found from outside, not while a job runs
    "connector_failed": (frozenset({S.RUNNING}), S.ERROR),  # engine/reconciler.py: a task failed, Connect gone
    "recovered": (frozenset({S.ERROR}), S.RUNNING),  # engine/reconciler.py: every connector RUNNING again
    "slot_lost": (frozenset({S.RUNNING, S.PAUSED, S.STOPPED, S.ERROR}), S.ERROR),  # the source dropped needed WAL
    "schema_pause": (frozenset({S.RUNNING, S.ERROR}), S.PAUSED),  # a schema change held for review
}

# What a user may ask for, in the order a UI shows them; `allowed_actions` filters it by the current status.
PipelineAction = Literal["start", "stop", "pause", "resume", "restart", "reset", "resync", "add_table",
                         "remove_table", "delete"]
USER_ACTIONS: tuple[PipelineAction, ...] = get_args(PipelineAction)

REASONS = {
    S.STARTING: "it is starting",
    S.RUNNING: "it is running",
    S.PAUSED: "it is paused",
    S.STOPPING: "it is stopping",
    S.STOPPED: "it is stopped",
    S.NOT_STARTED: "it was never started",
    S.ERROR: "it is in error",
}


class HasStatus(Protocol):
    status: S


def check_transition(event: str, current: S) -> S:
    """The status `event` leads to from `current`; Conflict (409, with the reason) when not allowed."""
    allowed, next_status = TRANSITIONS[event]
    if current not in allowed:
        raise Conflict(f"Cannot {event.replace('_', ' ')} the pipeline: {REASONS[current]} ({current.value})",
                       {"status": current.value, "allowed_from": sorted(s.value for s in allowed)})
    return next_status


def can(event: str, current: S) -> bool:
    return current in TRANSITIONS[event][0]


def fire(pipeline: HasStatus, event: str) -> S:
    """Move the pipeline (a locked row, normally) along `event`; Conflict when the event is not allowed now."""
    pipeline.status = check_transition(event, S(pipeline.status))
    return pipeline.status


def allowed_actions(current: S) -> list[PipelineAction]:
    return [a for a in USER_ACTIONS if current in TRANSITIONS[a][0]]
