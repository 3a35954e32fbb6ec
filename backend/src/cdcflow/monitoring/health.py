"""Health of a pipeline and of the platform, judged from fresh observations: ok | degraded | error, with the list
of problems behind it (component, since, message, what the user can do).

Pure functions over monitoring/observe.py's observations, so every rule is unit-tested; HealthMonitor
(monitoring/monitor.py) gathers the observations and keeps the memory of when each problem was first seen.
Alert rules call `evaluate_pipeline_health` / `evaluate_platform_health` (or HealthMonitor.pipeline_report).
"""

import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from cdcflow.engine.connect.client import summarize_trace
from cdcflow.engine.names import ResourceNames
from cdcflow.models import CdcStatus, PipelineMode, PipelineStatus
from cdcflow.monitoring.observe import ConnectObservation, Reach, SinkProgress, SlotObservation

SEVERITY = {"ok": 0, "degraded": 1, "error": 2}
LOST_SLOT_ERROR = "the source dropped the slot's WAL: resync needed"
LIVE = (PipelineStatus.RUNNING, PipelineStatus.PAUSED)


@dataclass(frozen=True)
class HealthLimits:
    max_age: float = 10.0        # observations older than this mean "unknown", never "ok"
    sink_stall: float = 15.0     # no sink commit this long while its lag grows; must exceed Connect's offset flush
    sink_behind: float = 30.0    # the target not caught up this long, with at least sink_behind_messages waiting
    sink_behind_messages: int = 1000
    slot_grace: float = 2.0      # a slot inactive for a moment (a pass catching a reconnect) is not a problem
    logger_grace: float = 3.0


@dataclass(frozen=True)
class Problem:
    component: str   # kafka | connect | source-connector | sink-connector | source | sink | slot | event-logger | ...
    code: str        # stable, for alert rules: broker_unreachable, sink_stalled, wal_warning, slot_lost, ...
    severity: str    # degraded | error
    since: datetime  # when this problem was first observed
    message: str
    action: str      # what the user can do
    actions: tuple[str, ...] = ()   # product actions that fix it, e.g. ("reset",)


@dataclass(frozen=True)
class WalFigures:
    """The slot guardian's figures for one pipeline."""

    observed_at: datetime
    slot_exists: bool
    slot_active: bool | None
    active_pid: int | None
    wal_status: str | None
    retained_bytes: int | None
    lag_bytes: int | None
    safe_wal_size: int | None
    max_slot_wal_keep_size: str | None
    wal_dir_bytes: int | None
    free_disk_bytes: int | None
    disk_note: str | None
    warning_bytes: int
    critical_bytes: int
    error: str | None


@dataclass(frozen=True)
class HealthReport:
    health: str
    problems: list[Problem]
    observed_at: datetime | None
    wal: WalFigures | None = None


@dataclass
class Observations:
    """One view of the data plane; `at` is when the pass that produced it ended (None: never)."""

    at: float | None = None
    broker: Reach | None = None
    connect: ConnectObservation | None = None
    logger: dict[str, Any] | None = None   # the in-process event logger's status(); None when it runs elsewhere
    slots: dict[uuid.UUID, SlotObservation] = field(default_factory=dict)
    sinks: dict[uuid.UUID, SinkProgress] = field(default_factory=dict)


class PipelineLike(Protocol):
    id: uuid.UUID
    status: PipelineStatus
    cdc_status: CdcStatus
    mode: PipelineMode
    last_error: str | None
    sink_connector_name: str | None
    wal_warning_bytes: int
    wal_critical_bytes: int


class ProblemMemory:
    """When each condition was first seen, per scope (a pipeline id, or "platform") and code: `since` survives from
    one evaluation to the next, a condition can wait out a grace period, and an ended one is forgotten."""

    def __init__(self) -> None:
        self._first: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    def first_seen(self, scope: str, code: str, now: float) -> float:
        with self._lock:
            return self._first.setdefault((scope, code), now)

    def keep_only(self, scope: str, codes: set[str]) -> None:
        with self._lock:
            for key in [k for k in self._first if k[0] == scope and k[1] not in codes]:
                del self._first[key]

    def keep_scopes(self, scopes: set[str]) -> None:
        """Forget pipelines that are gone."""
        with self._lock:
            for key in [k for k in self._first if k[0] not in scopes]:
                del self._first[key]


class _Found:
    def __init__(self, scope: str, memory: ProblemMemory, now: float) -> None:
        self.scope, self.memory, self.now = scope, memory, now
        self.problems: list[Problem] = []
        self.seen: set[str] = set()

    def add(self, component: str, code: str, severity: str, message: str, action: str, *, grace: float = 0.0,
            since: float | None = None, actions: tuple[str, ...] = ()) -> None:
        first = self.memory.first_seen(self.scope, code, self.now)
        self.seen.add(code)
        started = min(first, since) if since is not None else first
        if self.now - started < grace:
            return
        self.problems.append(Problem(component, code, severity, datetime.fromtimestamp(started, UTC), message,
                                     action, actions))

    def report(self, observed_at: float | None, wal: WalFigures | None = None) -> HealthReport:
        self.memory.keep_only(self.scope, self.seen)
        worst = max((SEVERITY[p.severity] for p in self.problems), default=0)
        return HealthReport(next(k for k, v in SEVERITY.items() if v == worst), self.problems,
                            datetime.fromtimestamp(observed_at, UTC) if observed_at else None, wal)


def evaluate_pipeline_health(pipeline: PipelineLike, observations: Observations,
                             memory: ProblemMemory | None = None, now: float | None = None,
                             limits: HealthLimits = HealthLimits()) -> HealthReport:
    """The pipeline's health and problems. `memory` keeps first-seen times across calls (without one, every
    problem is new and grace periods never pass)."""
    now = time.time() if now is None else now
    found = _Found(str(pipeline.id), memory or ProblemMemory(), now)
    status = PipelineStatus(pipeline.status)
    slot = observations.slots.get(pipeline.id) if pipeline.mode != PipelineMode.FULL_LOAD_ONLY else None
    has_connectors = pipeline.sink_connector_name is not None

    if status == PipelineStatus.ERROR:
        lost = pipeline.last_error == LOST_SLOT_ERROR
        found.add("pipeline", "pipeline_error", "error", pipeline.last_error or "The pipeline is in ERROR",
                  "Reset the pipeline: a new full load, then streaming from a new slot" if lost else
                  "Fix the cause shown, then start the pipeline again", actions=("reset",) if lost else ("start",))
    watched = (status in LIVE or status == PipelineStatus.ERROR) and has_connectors
    if watched or (slot is not None and slot.exists):
        _freshness(found, observations, now, limits)
    if watched:
        _platform(found, observations, now, limits, logged=status == PipelineStatus.RUNNING)
        _connectors(found, pipeline, status, observations.connect)
    if status == PipelineStatus.RUNNING and has_connectors:
        _sink(found, observations, pipeline.id, now, limits)
        # With the broker or Connect down, an idle slot is their symptom (Debezium's task stops with them): the
        # report names the root cause only, so the first non-ok health an operator sees points at what to fix.
        platform_down = any(o is not None and not o.ok for o in (observations.broker, observations.connect))
        _slot_activity(found, slot, ResourceNames(pipeline.id).slot, limits, symptoms=not platform_down)
    wal = None
    if slot is not None and (slot.exists or slot.error or status in LIVE):
        wal = _wal(found, pipeline, slot, status)
    return found.report(observations.at, wal)


def evaluate_platform_health(observations: Observations, memory: ProblemMemory | None = None,
                             now: float | None = None, limits: HealthLimits = HealthLimits()) -> HealthReport:
    """The shared data plane: the broker, Kafka Connect and the event logger."""
    now = time.time() if now is None else now
    found = _Found("platform", memory or ProblemMemory(), now)
    _freshness(found, observations, now, limits)
    _platform(found, observations, now, limits, logged=True)
    return found.report(observations.at)


# ------------------------------------------------------------------------------------------------- the rules

def _freshness(found: _Found, obs: Observations, now: float, limits: HealthLimits) -> None:
    if obs.at is None:
        found.add("monitor", "not_observed", "degraded", "Health not observed yet: the monitor has not completed a "
                  "pass", "Wait a few seconds; if this stays, check the API's log for the health monitor")
    elif now - obs.at > limits.max_age:
        found.add("monitor", "observations_stale", "degraded",
                  f"The latest observations are {now - obs.at:.0f} s old: the current health is unknown",
                  "Check the API's log: a component may hang the health monitor's probes")


def _platform(found: _Found, obs: Observations, now: float, limits: HealthLimits, logged: bool) -> None:
    if obs.broker is not None and not obs.broker.ok:
        found.add("kafka", "broker_unreachable", "error", obs.broker.error or "Kafka broker unreachable",
                  "Start the broker again (make up, or stack/stackctl up): the source keeps changes in its slot "
                  "meanwhile and the connectors resume from their offsets")
    if obs.connect is not None and not obs.connect.ok:
        found.add("connect", "connect_unreachable", "error", obs.connect.error or "Kafka Connect unreachable",
                  "Start the Kafka Connect worker again (make up, or stack/stackctl up): the connectors resume "
                  "from their committed offsets")
    log = obs.logger
    if not logged or log is None or not log.get("enabled", True):
        return
    if log.get("state") == "stopped":
        found.add("event-logger", "logger_stopped", "degraded", "The event logger is stopped: changes reach the "
                  "target but are not logged", "Restart it (Monitoring page, or POST "
                  "/api/v1/monitoring/event-logger/restart)")
    elif log.get("state") == "reconnecting":
        error = log.get("current_error") or {}
        found.add("event-logger", "logger_cannot_consume", "degraded",
                  f"The event logger cannot consume: {error.get('message', 'reconnecting')}",
                  "Nothing is lost: it stores the events once Kafka and the metadata database answer again",
                  grace=limits.logger_grace, since=error.get("since"))


def _connectors(found: _Found, pipeline: PipelineLike, status: PipelineStatus,
                connect: ConnectObservation | None) -> None:
    if connect is None or not connect.ok or connect.statuses is None:
        return
    names = ResourceNames(pipeline.id)
    want = "PAUSED" if status == PipelineStatus.PAUSED else "RUNNING"
    for role, name in (("source", names.source_connector), ("sink", names.sink_connector)):
        component = f"{role}-connector"
        view = connect.statuses.get(name)
        if view is None:
            found.add(component, f"{role}_missing", "error", f"The {role} connector {name} is missing from Kafka "
                      "Connect", "Stop and start the pipeline: cdcflow creates the connector again")
            continue
        failed = [("connector", view["connector"])] if view["connector"]["state"] == "FAILED" else []
        failed += [(f"task {t['id']}", t) for t in view.get("tasks", []) if t["state"] == "FAILED"]
        if failed:
            what, item = failed[0]
            trace = summarize_trace(item["trace"]) if item.get("trace") else "no trace"
            found.add(component, f"{role}_failed", "error", f"The {role} connector's {what} failed: {trace}",
                      "Fix the cause in the trace, then stop and start the pipeline")
            continue
        states = [view["connector"]["state"]] + [t["state"] for t in view.get("tasks", [])]
        if not view.get("tasks") or any(s != want for s in states):
            found.add(component, f"{role}_not_{want.lower()}", "degraded",
                      f"The {role} connector is {view['connector']['state']} (tasks: "
                      f"{', '.join(t['state'] for t in view.get('tasks', [])) or 'none'}), expected {want}",
                      "Usually a worker (re)starting: it settles within seconds; if not, check Kafka Connect's log")


def _sink(found: _Found, obs: Observations, pipeline_id: uuid.UUID, now: float, limits: HealthLimits) -> None:
    if obs.broker is None or not obs.broker.ok:
        return  # offsets cannot be read; the broker problem says why
    progress = obs.sinks.get(pipeline_id)
    if progress is None:
        return
    stalled = progress.stalled_for(now)
    if stalled >= limits.sink_stall:
        found.add("sink", "sink_stalled", "degraded",
                  f"The sink has applied nothing for {stalled:.0f} s while {progress.lag:,} messages wait "
                  f"(was {progress.lag_at_advance:,}): the target may be locked, slow or refusing writes",
                  "Check the target database for locks and long transactions (pg_stat_activity) and the sink "
                  "connector's task", since=progress.last_advance_at)
        return
    behind = progress.behind_for(now)
    if behind >= limits.sink_behind and progress.lag >= limits.sink_behind_messages:
        found.add("sink", "sink_behind", "degraded",
                  f"The target is {progress.lag:,} changes behind the source's stream and has not caught up for "
                  f"{behind:.0f} s: it is applying them, slower than they arrive",
                  "Usually a burst (a large UPDATE or a bulk load at the source): it catches up by itself. If the "
                  "lag keeps growing, check the target database's load and the sink connector's task",
                  since=progress.caught_up_at)


def _slot_activity(found: _Found, slot: SlotObservation | None, slot_name: str, limits: HealthLimits,
                   symptoms: bool = True) -> None:
    if slot is None:
        return
    if slot.error:
        found.add("source", "source_unreachable", "error", f"Cannot check the replication slot: {slot.error}",
                  "Check that the source database is up and reachable from cdcflow and Kafka Connect")
    elif not slot.exists:
        found.add("source", "slot_missing", "error", f"The replication slot {slot_name} does not exist on the "
                  "source: no changes are captured", "Reset the pipeline (a new full load and a new slot)",
                  actions=("reset",))
    elif not slot.active and symptoms:
        found.add("source", "slot_inactive", "degraded", f"The replication slot {slot_name} is not in use: "
                  "Debezium is not reading the source's changes", "Debezium reconnects by itself after a dropped "
                  "connection; if this lasts, check the source connector's task and the source's log",
                  grace=limits.slot_grace)


def _bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


def _wal(found: _Found, pipeline: PipelineLike, slot: SlotObservation, status: PipelineStatus) -> WalFigures:
    figures = WalFigures(datetime.fromtimestamp(slot.at, UTC), slot.exists, slot.active, slot.active_pid,
                         slot.wal_status, slot.retained_bytes, slot.lag_bytes, slot.safe_wal_size,
                         slot.max_slot_wal_keep_size, slot.wal_dir_bytes, slot.free_disk_bytes, slot.disk_note,
                         pipeline.wal_warning_bytes, pipeline.wal_critical_bytes, slot.error)
    if slot.error and status != PipelineStatus.RUNNING:  # RUNNING: _slot_activity reports it
        found.add("slot", "slot_unchecked", "degraded", f"Cannot check the WAL this pipeline's slot retains: "
                  f"{slot.error}", "Check that the source database is up and reachable from cdcflow")
    if not slot.exists:
        return figures
    idle = status not in LIVE
    consume = ("Start the pipeline so Debezium consumes it, or delete the pipeline to drop its slot" if idle else
               "Debezium is behind the source: check the source connector's task; the WAL is released as it "
               "confirms changes")
    if slot.wal_status == "lost":
        found.add("slot", "slot_lost", "error", LOST_SLOT_ERROR[0].upper() + LOST_SLOT_ERROR[1:] +
                  " (the slot passed max_slot_wal_keep_size)", "Reset the pipeline: a new full load and a new slot",
                  actions=("reset",))
        return figures
    retained = slot.retained_bytes or 0
    held = f"The source retains {_bytes(retained)} of WAL for this pipeline's slot" + \
           (f" while the pipeline is {status.value}" if idle else "")
    limits = f"(warning at {_bytes(pipeline.wal_warning_bytes)}, critical at {_bytes(pipeline.wal_critical_bytes)})"
    if slot.wal_status == "unreserved":
        found.add("slot", "wal_unreserved", "error", f"{held}: past max_slot_wal_keep_size, the source will remove "
                  "it at its next checkpoint and the slot will be lost", consume)
    elif retained >= pipeline.wal_critical_bytes:
        found.add("slot", "wal_critical", "error", f"{held} {limits}", consume)
    elif retained >= pipeline.wal_warning_bytes:
        found.add("slot", "wal_warning", "degraded", f"{held} {limits}", consume)
    return figures
