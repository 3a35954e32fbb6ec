"""The pipeline lifecycle as data: which action is allowed from which status, and where it leads."""

from cdcflow.core.errors import Conflict
from cdcflow.models import PipelineStatus as S

# action -> (allowed from, status while it runs)
TRANSITIONS: dict[str, tuple[frozenset[S], S]] = {
    "start": (frozenset({S.NOT_STARTED, S.STOPPED, S.ERROR}), S.STARTING),
    "resume": (frozenset({S.PAUSED}), S.RUNNING),
    "pause": (frozenset({S.RUNNING}), S.PAUSED),
    "stop": (frozenset({S.STARTING, S.RUNNING, S.PAUSED, S.ERROR}), S.STOPPING),
    "delete": (frozenset({S.NOT_STARTED, S.STOPPED, S.ERROR}), S.STOPPED),
    # A job that failed before it got anywhere (a reset), or whose API process died (pipelines/watchdog.py).
    "interrupt": (frozenset({S.STARTING, S.STOPPING}), S.ERROR),
    "cancel_start": (frozenset({S.STARTING}), S.STOPPED),
    # Found broken from outside (the slot guardian: the source dropped the slot's WAL). Not while a job runs.
    "fail": (frozenset({S.RUNNING, S.PAUSED, S.STOPPED, S.ERROR}), S.ERROR),
    # Recovery (pipelines/recovery.py): failed tasks restarted, a schema change held for review, a fresh start.
    "restart": (frozenset({S.RUNNING, S.ERROR}), S.RUNNING),
    "schema_pause": (frozenset({S.RUNNING, S.ERROR}), S.PAUSED),
    "reset": (frozenset({S.RUNNING, S.PAUSED, S.ERROR, S.STOPPED}), S.STARTING),
    # Table changes on a live pipeline: the status stays, the connectors follow.
    "resync": (frozenset({S.RUNNING}), S.RUNNING),
    "add_table": (frozenset({S.RUNNING}), S.RUNNING),
    "remove_table": (frozenset({S.RUNNING, S.PAUSED}), S.RUNNING),
}

REASONS = {
    S.STARTING: "it is starting",
    S.RUNNING: "it is running",
    S.PAUSED: "it is paused",
    S.STOPPING: "it is stopping",
    S.STOPPED: "it is stopped",
    S.NOT_STARTED: "it was never started",
    S.ERROR: "it is in error",
}


def check_transition(action: str, current: S) -> S:
    allowed, next_status = TRANSITIONS[action]
    if current not in allowed:
        raise Conflict(f"Cannot {action} the pipeline: {REASONS[current]} ({current.value})",
                       {"status": current.value, "allowed_from": sorted(s.value for s in allowed)})
    return next_status
