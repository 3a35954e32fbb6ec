"""The health monitor: a loop service that observes the data plane every few seconds (probes in parallel, each with
a short timeout), judges every pipeline's health from what it saw, and puts a pipeline whose slot the source
dropped into ERROR. /status, /metrics, the pipelines list and alert rules read its latest judgement."""

import logging
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cdcflow.connections.service import endpoint_for
from cdcflow.core.db import session_scope
from cdcflow.core.errors import Conflict
from cdcflow.core.loop import LoopService
from cdcflow.engine.endpoints import DatabaseEndpoint
from cdcflow.engine.names import ResourceNames
from cdcflow.models import CdcStatus, Connection, Pipeline, PipelineMode, PipelineStatus
from cdcflow.monitoring import observe
from cdcflow.monitoring.health import (
    LOST_SLOT_ERROR,
    HealthLimits,
    HealthReport,
    Observations,
    ProblemMemory,
    evaluate_pipeline_health,
    evaluate_platform_health,
)
from cdcflow.engine.context import EngineContext
from cdcflow.pipelines.states import fire

logger = logging.getLogger(__name__)
# Statuses whose data plane is expected to flow (sink offsets sampled); a slot is watched in any started status.
SINK_WATCHED = (PipelineStatus.RUNNING, PipelineStatus.PAUSED, PipelineStatus.ERROR)


@dataclass(frozen=True)
class _Target:
    id: uuid.UUID
    status: PipelineStatus
    topics: list[str]
    has_sink: bool
    source: uuid.UUID


class HealthMonitor(LoopService):
    name = "health-monitor"
    run_first = True

    def __init__(self, ctx: EngineContext, logger_status: Callable[[], dict[str, Any]] | None = None,
                 limits: HealthLimits = HealthLimits(), interval: float = 2.0, probe_timeout: float = 2.0) -> None:
        super().__init__()
        self.ctx, self.logger_status, self.limits = ctx, logger_status, limits
        self.interval, self.probe_timeout = interval, probe_timeout
        self.observations = Observations()
        self.memory = ProblemMemory()
        self.reports: dict[uuid.UUID, HealthReport] = {}
        self.platform: HealthReport | None = None
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="health-probe")
        self._inflight: dict[str, Future] = {}
        self._lock = threading.Lock()

    def stop(self, timeout: float = 10) -> None:
        super().stop(timeout)
        self._pool.shutdown(wait=False, cancel_futures=True)

    # ------------------------------------------------------------------------------------------ observing

    def run_once(self) -> None:
        targets, endpoints = self._targets()
        previous = self.observations
        now = time.time()
        kafka = self._submit("kafka", self._observe_kafka, targets, previous.sinks)
        connect = self._submit("connect", observe.probe_connect, self.ctx.settings,
                               self.probe_timeout)
        slots = {source: self._submit(f"source:{source}", self._observe_source, endpoints[source],
                                      [t for t in targets if t.source == source]) for source in endpoints}
        futures = [f for f in (kafka, connect, *slots.values()) if f is not None]
        wait(futures, timeout=self.probe_timeout * 3 + 1)
        late = f"did not answer within {self.probe_timeout * 3 + 1:.0f} s"

        broker, sinks = _result(kafka, (observe.Reach(False, now, f"Kafka broker unresponsive: probe {late}"), {}))
        connect_seen = _result(connect, observe.ConnectObservation(False, now, f"Kafka Connect unresponsive: {late}"))
        slot_seen: dict[uuid.UUID, observe.SlotObservation] = {}
        for source, future in slots.items():
            stale = {t.id: observe.SlotObservation(now, error=f"the source {late}") for t in targets
                     if t.source == source}
            slot_seen.update(_result(future, stale))
        logger_seen = self.logger_status() if self.logger_status is not None else None
        self.observations = Observations(time.time(), broker, connect_seen, logger_seen, slot_seen, sinks)
        self._judge()

    def _submit(self, kind: str, fn: Callable, *args: Any) -> Future | None:
        """One probe of each kind at a time: a hung one is not stacked up again (it shows as unresponsive)."""
        running = self._inflight.get(kind)
        if running is not None and not running.done():
            return None
        self._inflight[kind] = future = self._pool.submit(fn, *args)
        return future

    def _targets(self) -> tuple[list[_Target], dict[uuid.UUID, DatabaseEndpoint | str]]:
        with self.ctx.session_factory() as session:
            pipelines = session.scalars(select(Pipeline).where(
                Pipeline.deleted_at.is_(None), Pipeline.mode != PipelineMode.FULL_LOAD_ONLY,
                Pipeline.status != PipelineStatus.NOT_STARTED)).all()
            targets = [_Target(p.id, p.status, list(p.kafka_topics or []), p.sink_connector_name is not None,
                               p.source_connection_id) for p in pipelines]
            endpoints: dict[uuid.UUID, DatabaseEndpoint | str] = {}
            for source in {t.source for t in targets}:
                try:
                    endpoints[source] = endpoint_for(self.ctx.box, session.get(Connection, source), self.ctx.policy)
                except Exception as exc:  # noqa: BLE001  (an undecryptable password: reported on the slot)
                    endpoints[source] = str(exc)
        return targets, endpoints

    def _observe_kafka(self, targets: list[_Target], previous: dict) -> tuple[observe.Reach, dict]:
        bootstrap = self.ctx.settings.kafka_bootstrap_servers
        broker, topics = observe.probe_broker(bootstrap, self.probe_timeout)
        if not broker.ok:
            return broker, {}
        watched = {t.id: t.topics for t in targets if t.has_sink and t.status in SINK_WATCHED}
        try:
            return broker, observe.probe_sinks(bootstrap, topics, watched, previous, self.probe_timeout)
        except Exception as exc:  # noqa: BLE001  (no samples this pass: no stall is claimed either)
            logger.info("health monitor: sink offsets not read: %s", observe.kafka_error(exc))
            return broker, {}

    def _observe_source(self, endpoint: DatabaseEndpoint | str,
                        targets: list[_Target]) -> dict[uuid.UUID, observe.SlotObservation]:
        if isinstance(endpoint, str):
            return {t.id: observe.SlotObservation(time.time(), error=endpoint) for t in targets}
        if endpoint.database_type != "postgresql":
            return {}  # no slot: a MariaDB source's position lives in the connector's offsets (binlog retention
            #            is checked by its preflight, not watched here yet)
        names = {ResourceNames(t.id).slot: t.id for t in targets}
        found = observe.probe_slots(endpoint, list(names), int(self.probe_timeout))
        return {names[slot]: seen for slot, seen in found.items()}

    def observe_now(self, session: Session, pipeline: Pipeline) -> None:
        """A pipeline the last pass did not see (it just started): probe its slot now rather than claim nothing."""
        if pipeline.mode == PipelineMode.FULL_LOAD_ONLY or pipeline.id in self.observations.slots:
            return
        target = _Target(pipeline.id, pipeline.status, [], False, pipeline.source_connection_id)
        try:
            endpoint: DatabaseEndpoint | str = endpoint_for(self.ctx.box,
                                                            session.get(Connection, pipeline.source_connection_id),
                                                            self.ctx.policy)
        except Exception as exc:  # noqa: BLE001
            endpoint = str(exc)
        seen = self._observe_source(endpoint, [target])
        with self._lock:
            self.observations = replace(self.observations, slots={**self.observations.slots, **seen})

    # ------------------------------------------------------------------------------------------ judging

    def pipeline_report(self, pipeline: Pipeline, connect: observe.ConnectObservation | None = None) -> HealthReport:
        """The pipeline's health now. `connect`: a Connect view fresher than the last pass (what /status just
        asked), used instead of the monitor's."""
        observations = self.observations if connect is None else replace(self.observations, connect=connect)
        return evaluate_pipeline_health(pipeline, observations, self.memory, limits=self.limits)

    def platform_report(self) -> HealthReport:
        return self.platform or evaluate_platform_health(self.observations, self.memory, limits=self.limits)

    def _judge(self) -> None:
        self.platform = evaluate_platform_health(self.observations, self.memory, limits=self.limits)
        reports: dict[uuid.UUID, HealthReport] = {}
        with self.ctx.session_factory() as session:
            for pipeline in session.scalars(select(Pipeline).where(Pipeline.deleted_at.is_(None))):
                reports[pipeline.id] = self.pipeline_report(pipeline)
        self.reports = reports
        self.memory.keep_scopes({"platform", *(str(pid) for pid in reports)})
        for pid, seen in self.observations.slots.items():
            if seen.exists and seen.wal_status == "lost":
                self._fail_lost_slot(pid)

    def _fail_lost_slot(self, pipeline_id: uuid.UUID) -> None:
        """The source removed WAL the slot still needed: streaming cannot resume, whatever Connect says."""
        with session_scope(self.ctx.session_factory) as session:
            pipeline = session.get(Pipeline, pipeline_id, with_for_update=True)
            if pipeline is None or (pipeline.status == PipelineStatus.ERROR and pipeline.last_error == LOST_SLOT_ERROR):
                return
            try:
                fire(pipeline, "slot_lost")
            except Conflict:
                return  # a start or stop job owns the pipeline now; the next pass looks again
            pipeline.cdc_status, pipeline.last_error = CdcStatus.ERROR, LOST_SLOT_ERROR
            logger.error("pipeline %s -> ERROR: %s", pipeline_id, LOST_SLOT_ERROR)


def _result(future: Future | None, fallback: Any) -> Any:
    if future is None or not future.done():
        return fallback
    try:
        return future.result()
    except Exception as exc:  # noqa: BLE001  (a probe bug must not stop the monitor; it shows as unknown)
        logger.warning("health probe failed: %s", exc)
        return fallback
