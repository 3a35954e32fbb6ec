"""What the alert evaluator observes: pipeline status and last error, each pipeline's health and problems as the
health monitor (monitoring/monitor.py) judged them from fresh observations, the slots on each source (retained WAL,
lag), the event counters (last event, minutes with events), and this process's event logger.

The evaluator depends only on ObservationSource; the health comes from `health_fn`:
(pipeline, connect client) -> (health, problems).
"""

import logging
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from cdcflow.alerts.rules import NO_EVENTS_MIN_HISTORY_MINUTES, Observations, PipelineObservation
from cdcflow.connections.service import endpoint_for
from cdcflow.engine.connect.client import ConnectClient
from cdcflow.engine.names import ResourceNames
from cdcflow.engine.postgres.inspect import open_connection
from cdcflow.events.service import EventLoggerService
from cdcflow.models import Connection, Pipeline, PipelineStatus
from cdcflow.monitoring.lag import last_event
from cdcflow.engine.context import EngineContext
from cdcflow.monitoring.monitor import HealthMonitor
from cdcflow.pipelines.status import connect_snapshot

logger = logging.getLogger(__name__)
HealthFn = Callable[[Pipeline, ConnectClient], tuple[str, list[str]]]

SLOTS = """
SELECT slot_name, pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint,
       pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint
FROM pg_replication_slots WHERE slot_name = ANY(%s)
"""


class ObservationSource(Protocol):
    def observe(self, kinds: frozenset[str]) -> Observations:
        """Observe what rules of these kinds need (network calls allowed: no transaction is open)."""


def monitor_health(monitor: HealthMonitor) -> HealthFn:
    """The health monitor's latest judgement; a pipeline it has not judged yet falls back to Connect's view."""
    def health_fn(pipeline: Pipeline, connect: ConnectClient) -> tuple[str, list[str]]:
        report = monitor.reports.get(pipeline.id)
        if report is None:
            return connect_health(pipeline, connect)
        return report.health, [f"{p.component}: {p.message}" for p in report.problems]
    return health_fn


def connect_health(pipeline: Pipeline, connect: ConnectClient) -> tuple[str, list[str]]:
    """Connect's view only: degraded when a connector or task is not in the state the pipeline wants."""
    snapshot = connect_snapshot(connect, pipeline)
    problems = []
    if not snapshot["reachable"]:
        problems.append(f"Kafka Connect unreachable: {snapshot['error']}")
    else:
        for role in ("source", "sink"):
            view = snapshot[role]
            if view["state"] != ("PAUSED" if pipeline.status == PipelineStatus.PAUSED else "RUNNING"):
                problems.append(f"{role} connector {view['state'] or 'missing'}")
            problems += [f"{role} task {t['id']} {t['state']}" for t in view["tasks"] if t["state"] != view["state"]]
    return ("error" if any("FAILED" in p for p in problems) else "degraded" if problems else "ok"), problems


class CurrentObservations:
    def __init__(self, ctx: EngineContext, event_logger: EventLoggerService | None,
                 health_fn: HealthFn = connect_health) -> None:
        self.ctx, self.event_logger, self.health_fn = ctx, event_logger, health_fn

    def observe(self, kinds: frozenset[str]) -> Observations:
        factory = self.ctx.session_factory
        with factory() as session:
            pipelines = list(session.scalars(select(Pipeline).where(Pipeline.deleted_at.is_(None))))
            last_events = dict(session.execute(text(
                "SELECT pipeline_id, max(last_event_at) FROM pipeline_event_totals GROUP BY 1")).all())
            ratios = _active_minute_ratios(session) if "no_events" in kinds else {}
            slots = self._slots(session, pipelines) if kinds & {"retained_wal_bytes", "lag_seconds"} else {}
            lag_seconds = {p.id: _lag_seconds(session, p.id, slots.get(p.id)) for p in pipelines
                           if "lag_seconds" in kinds and p.status == PipelineStatus.RUNNING}
        health = self._health(pipelines) if "degraded" in kinds else {}
        observed = []
        for p in pipelines:
            h, problems = health.get(p.id, (None, []))
            if p.last_error:
                problems = [p.last_error, *problems]
            slot = slots.get(p.id)
            observed.append(PipelineObservation(
                pipeline_id=p.id, name=p.name, status=p.status.value, health=h, problems=tuple(problems),
                lag_seconds=lag_seconds.get(p.id), retained_wal_bytes=slot[0] if slot else None,
                last_event_at=last_events.get(p.id), active_minute_ratio=ratios.get(p.id)))
        return Observations(observed, *self._event_logger())

    def _event_logger(self) -> tuple[bool | None, str | None]:
        # Only the process that runs the logger can tell whether it runs.
        if self.event_logger is None or not self.ctx.settings.event_logger_enabled:
            return None, None
        status = self.event_logger.status()
        return bool(status["running"]), status.get("last_error")

    def _slots(self, session: Session, pipelines: list[Pipeline]) -> dict[uuid.UUID, tuple[int | None, int | None]]:
        """(retained WAL, unconfirmed WAL) per pipeline, one query per source; a missing slot retains nothing."""
        by_source: dict[uuid.UUID, list[Pipeline]] = {}
        for p in pipelines:
            by_source.setdefault(p.source_connection_id, []).append(p)
        found: dict[uuid.UUID, tuple[int | None, int | None]] = {}
        for source_id, members in by_source.items():
            names = {ResourceNames(p.id).slot: p.id for p in members}
            try:
                endpoint = endpoint_for(self.ctx.box, session.get(Connection, source_id), self.ctx.policy)
                with open_connection(endpoint, self.ctx.settings.connection_test_timeout_seconds,
                                     autocommit=True) as conn:
                    rows = {r[0]: (r[1], r[2]) for r in conn.execute(SLOTS, (list(names),)).fetchall()}
            except Exception as exc:  # noqa: BLE001  (unreachable source: unknown this pass, not "fine")
                logger.info("alerts: cannot read slots on source %s: %s", source_id, type(exc).__name__)
                continue
            for slot, pipeline_id in names.items():
                found[pipeline_id] = rows.get(slot, (0, 0))
        return found

    def _health(self, pipelines: list[Pipeline]) -> dict[uuid.UUID, tuple[str, list[str]]]:
        watched = [p for p in pipelines if p.status in (PipelineStatus.RUNNING, PipelineStatus.PAUSED)]
        if not watched:
            return {}
        result = {}
        with self.ctx.connect() as connect:
            for p in watched:
                try:
                    result[p.id] = self.health_fn(p, connect)
                except Exception as exc:  # noqa: BLE001  (one pipeline's failure leaves it unknown)
                    logger.info("alerts: no health for pipeline %s: %s", p.id, type(exc).__name__)
        return result


def _lag_seconds(session: Session, pipeline_id: uuid.UUID, slot: tuple[int | None, int | None] | None) -> float | None:
    """As monitoring/lag.py: how old the newest stored change is, while the slot holds unconfirmed WAL."""
    if slot is None:
        return None
    behind = slot[1] or 0
    if behind <= 0:
        return 0.0
    newest = last_event(session, pipeline_id)
    if not newest or not newest["source_ts_ms"]:
        return None
    return max(0.0, time.time() - newest["source_ts_ms"] / 1000)


def _active_minute_ratios(session: Session) -> dict[uuid.UUID, float]:
    rows = session.execute(text("""
        SELECT pipeline_id, count(DISTINCT minute), min(minute) FROM pipeline_event_minutes
        WHERE minute >= now() - interval '24 hours' AND events > 0 GROUP BY 1""")).all()
    now = datetime.now(UTC)
    ratios = {}
    for pipeline_id, active, first in rows:
        span = (now - first).total_seconds() / 60
        if span >= NO_EVENTS_MIN_HISTORY_MINUTES:
            ratios[pipeline_id] = active / span
    return ratios
