"""The pipeline state machine: its transition table, and that nothing outside it writes a pipeline's status."""

import ast
from pathlib import Path

import pytest

from cdcflow.core.errors import Conflict
from cdcflow.models import PipelineStatus as S
from cdcflow.pipelines import states
from cdcflow.pipelines.states import TRANSITIONS, USER_ACTIONS, allowed_actions, can, check_transition, fire

SRC = Path(states.__file__).resolve().parents[1]

# `.status` attributes that are not a pipeline's (file relative to src/cdcflow, the assigned expression).
NOT_A_PIPELINE = {
    ("engine/connect/client.py", "self.status"),  # ConnectError's HTTP status
    ("alerts/service.py", "delivery.status"),  # alert deliveries
    ("alerts/delivery.py", "d.status"),
}


def _status_writes(tree: ast.AST) -> list[tuple[int, str]]:
    """Assignments to `<x>.status` (plain, augmented, annotated, in tuples) and setattr(<x>, "status", ...)."""
    found = []

    def targets(node: ast.AST) -> list[ast.AST]:
        if isinstance(node, (ast.Tuple, ast.List)):
            return [t for elt in node.elts for t in targets(elt)]
        if isinstance(node, ast.Starred):
            return targets(node.value)
        return [node]

    for node in ast.walk(tree):
        assigned: list[ast.AST] = []
        if isinstance(node, ast.Assign):
            assigned = [t for target in node.targets for t in targets(target)]
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            assigned = targets(node.target)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "setattr" \
                and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant) and node.args[1].value == "status":
            found.append((node.lineno, ast.unparse(node.args[0]) + ".status"))
        for target in assigned:
            if isinstance(target, ast.Attribute) and target.attr == "status":
                found.append((target.lineno, ast.unparse(target)))
    return sorted(found)


def test_the_scan_finds_status_writes():
    code = "p.status = 1\na.b, p.status = 1, 2\nsetattr(q, 'status', 3)\np.status += 1\nx = p.status\n"
    assert [line for line, _ in _status_writes(ast.parse(code))] == [1, 2, 3, 4]


def test_only_the_state_machine_writes_a_pipeline_status():
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC).as_posix()
        if rel == "pipelines/states.py" or "/migrations/" in f"/{rel}":
            continue
        for line, expr in _status_writes(ast.parse(path.read_text(), filename=str(path))):
            if (rel, expr) not in NOT_A_PIPELINE:
                offenders.append(f"{rel}:{line}: {expr} = ...")
    assert not offenders, "status changes must go through pipelines.states.fire(pipeline, event):\n" + \
        "\n".join(offenders)


def test_no_bulk_sql_update_of_a_status():
    """`update(...).values(status=...)` would go around the state machine too."""
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "values" \
                    and any(k.arg == "status" for k in node.keywords):
                offenders.append(f"{path.relative_to(SRC)}:{node.lineno}")
    assert not offenders


@pytest.mark.parametrize("event,current,expected", [
    ("start", S.NOT_STARTED, S.STARTING), ("start", S.STOPPED, S.STARTING), ("start", S.ERROR, S.STARTING),
    ("pause", S.RUNNING, S.PAUSED), ("resume", S.PAUSED, S.RUNNING), ("stop", S.RUNNING, S.STOPPING),
    ("stop", S.STARTING, S.STOPPING), ("started", S.STARTING, S.RUNNING), ("loaded", S.STARTING, S.STOPPED),
    ("start_failed", S.STARTING, S.ERROR), ("cancel_start", S.STARTING, S.STOPPED),
    ("stopped", S.STOPPING, S.STOPPED), ("stopped", S.STARTING, S.STOPPED), ("stop_failed", S.STOPPING, S.ERROR),
    ("interrupt", S.STOPPING, S.ERROR), ("reset_failed", S.STARTING, S.ERROR),
    ("connector_failed", S.RUNNING, S.ERROR), ("recovered", S.ERROR, S.RUNNING), ("slot_lost", S.STOPPED, S.ERROR),
    ("schema_pause", S.ERROR, S.PAUSED), ("restart", S.ERROR, S.RUNNING), ("reset", S.PAUSED, S.STARTING),
])
def test_allowed_transitions(event, current, expected):
    assert check_transition(event, current) == expected
    assert can(event, current)


@pytest.mark.parametrize("event,current", [
    ("started", S.STOPPED), ("started", S.RUNNING), ("loaded", S.RUNNING), ("start_failed", S.RUNNING),
    ("connector_failed", S.ERROR), ("connector_failed", S.PAUSED), ("connector_failed", S.STARTING),
    ("recovered", S.RUNNING), ("recovered", S.STOPPED), ("slot_lost", S.STARTING), ("slot_lost", S.STOPPING),
    ("schema_pause", S.STOPPED), ("stopped", S.RUNNING), ("reset", S.STARTING), ("restart", S.PAUSED),
])
def test_events_that_make_no_sense_now_are_refused(event, current):
    assert not can(event, current)
    with pytest.raises(Conflict) as info:
        check_transition(event, current)
    assert current.value in info.value.message and info.value.details["status"] == current.value


def test_every_status_can_be_left_and_reached():
    """No dead end and no unreachable status (NOT_STARTED is where every pipeline begins)."""
    reached = {after for _, after in TRANSITIONS.values()}
    left = {s for before, _ in TRANSITIONS.values() for s in before}
    assert set(S) - {S.NOT_STARTED} <= reached
    assert set(S) <= left


def test_a_job_can_always_finish_what_it_started():
    """A start ends running, loaded, failed or cancelled; a stop ends stopped or failed."""
    assert {TRANSITIONS[e][1] for e in ("started", "loaded", "start_failed", "cancel_start")} == \
        {S.RUNNING, S.STOPPED, S.ERROR}
    assert all(S.STARTING in TRANSITIONS[e][0] for e in ("started", "loaded", "start_failed", "cancel_start"))
    assert all(S.STOPPING in TRANSITIONS[e][0] for e in ("stopped", "stop_failed", "interrupt"))


class _Row:
    def __init__(self, status: S) -> None:
        self.status = status


def test_fire_moves_the_row_or_leaves_it_alone():
    row = _Row(S.RUNNING)
    assert fire(row, "connector_failed") == S.ERROR and row.status == S.ERROR
    with pytest.raises(Conflict):
        fire(row, "pause")
    assert row.status == S.ERROR


@pytest.mark.parametrize("current,expected", [
    (S.NOT_STARTED, ["start", "delete"]),
    (S.STARTING, ["stop"]),
    (S.RUNNING, ["stop", "pause", "restart", "reset", "resync", "add_table", "remove_table"]),
    (S.PAUSED, ["stop", "resume", "reset", "remove_table"]),
    (S.STOPPING, []),
    (S.STOPPED, ["start", "reset", "delete"]),
    (S.ERROR, ["start", "stop", "restart", "reset", "delete"]),
])
def test_allowed_actions_follow_the_table(current, expected):
    assert allowed_actions(current) == expected
    assert all(a in TRANSITIONS for a in USER_ACTIONS)
