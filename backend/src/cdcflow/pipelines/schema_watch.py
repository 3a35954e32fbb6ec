"""The schema watcher: a loop service that keeps running pipelines in step with their sources' DDL.

Every pass, for each RUNNING (or ERROR) CDC pipeline: sync its schema (pipelines/schema_sync.py), pause it when a
change needs review, restart a sink task that stopped at a schema change once the target is ready, drop the columns a
drop-enabled pipeline waits to drop, and follow resyncs through Debezium's notifications (pipelines/resync_track.py).

The reconciler asks `claims()` before it turns a failed sink task into ERROR: a task stopped by a schema change is
this service's to heal, for a short grace period.
"""

import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from cdcflow.core.db import session_scope
from cdcflow.core.loop import LoopService
from cdcflow.engine.connect.client import ConnectClient, ConnectError
from cdcflow.engine.names import ResourceNames
from cdcflow.models import CdcStatus, Pipeline, PipelineMode, PipelineRun, PipelineStatus
from cdcflow.pipelines import schema_sync
from cdcflow.pipelines.schema_drops import run_deferred_drops
from cdcflow.pipelines.states import fire

logger = logging.getLogger(__name__)

# Sink failures a schema change causes: a new column (schema evolution off), NOT NULL on a dropped column, a value
# only the widened type holds.
SCHEMA_FAILURES = ("schema evolution is disabled", "violates not-null constraint", "out of range",
                   "value too long", "numeric field overflow")
CLAIM_GRACE_SECONDS = 90       # a sink task stopped by a schema change: healed within this, or ERROR
TRANSIENT_GRACE_SECONDS = 30   # a task restarting after a config update or a restart request
EPISODE_GAP_SECONDS = 20       # a problem unseen this long is over; the next one is a new episode
MAX_HEALS = 5


@dataclass
class Claim:
    first: float
    last: float
    kind: str          # "schema" or "transient"
    attempts: int = 0


def _transient(problem: str) -> bool:
    """'The sink connector is RUNNING (tasks: RESTARTING)': a task between two runs, not a failure."""
    if "(tasks:" not in problem:
        return False
    states = {s.strip() for s in problem.rsplit("(tasks:", 1)[1].rstrip(")").split(",") if s.strip()}
    return bool(states) and states <= {"RESTARTING", "UNASSIGNED", "RUNNING"} and "FAILED" not in problem


class SchemaWatcher(LoopService):
    name = "schema-watcher"
    run_first = True

    def __init__(self, ctx, interval: float, publish: Callable[[str, list[dict[str, Any]]], None] | None = None,
                 tracker=None) -> None:
        super().__init__()
        self.ctx, self.interval, self.publish, self.tracker = ctx, interval, publish, tracker
        self._claims: dict[uuid.UUID, Claim] = {}
        self._recent: dict[uuid.UUID, float] = {}   # pipeline -> last time a change was applied
        self._guard = threading.Lock()
        self._wake = threading.Event()
        self._announced: int | None = None

    # ------------------------------------------------------------------ the reconciler's question

    def claims(self, pipeline_id: uuid.UUID, problem: str) -> bool:
        """True while the problem is this service's to heal, for a grace period: a sink task stopped by a schema
        change (restarted once the target is ready), or a task restarting (after a config update or a restart)."""
        lowered = problem.lower()
        if "sink connector's task" in lowered and ("schema evolution is disabled" in lowered or (
                any(p in lowered for p in SCHEMA_FAILURES) and time.time() - self._recent.get(pipeline_id, 0) < 120)):
            kind = "schema"
        elif _transient(problem):
            kind = "transient"
        else:
            return False
        now = time.monotonic()
        with self._guard:
            claim = self._claims.get(pipeline_id)
            if claim is None or now - claim.last > EPISODE_GAP_SECONDS:
                claim = self._claims[pipeline_id] = Claim(now, now, kind)
            claim.last = now
            if kind == "schema":
                claim.kind = "schema"
            grace = CLAIM_GRACE_SECONDS if claim.kind == "schema" else TRANSIENT_GRACE_SECONDS
            if now - claim.first > grace or claim.attempts >= MAX_HEALS:
                return False
        if kind == "schema":
            self._wake.set()
        return True

    def _healing(self, pipeline_id: uuid.UUID) -> bool:
        claim = self._claims.get(pipeline_id)
        return claim is not None and claim.kind == "schema" and \
            time.monotonic() - claim.last < EPISODE_GAP_SECONDS

    def _loop(self) -> None:  # like LoopService._loop, but a claim wakes it at once
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception as exc:  # noqa: BLE001  (the loop outlives any one failure)
                logger.warning("%s pass failed: %s", self.name, exc)
            self._wake.wait(self.interval)
            self._wake.clear()

    def stop(self, timeout: float = 10) -> None:
        self._stop.set()
        self._wake.set()
        super().stop(timeout)
        if self.tracker is not None:
            self.tracker.close()

    # ------------------------------------------------------------------ one pass

    def run_once(self) -> None:
        with session_scope(self.ctx.session_factory) as session:
            pipelines = list(session.scalars(select(Pipeline.id).where(
                Pipeline.deleted_at.is_(None), Pipeline.sink_connector_name.is_not(None),
                Pipeline.mode != PipelineMode.FULL_LOAD_ONLY,
                Pipeline.status.in_([PipelineStatus.RUNNING, PipelineStatus.ERROR]))))
        for pipeline_id in pipelines:
            try:
                self.check(pipeline_id)
            except Exception as exc:  # noqa: BLE001  (one pipeline's source being down must not stop the others)
                logger.warning("schema check of pipeline %s failed: %s", pipeline_id, exc,
                               extra={"pipeline_id": str(pipeline_id)})
        if self.tracker is not None:
            try:
                self.tracker.poll()
            except Exception as exc:  # noqa: BLE001
                logger.warning("resync tracking failed: %s", exc)
        self._announce()

    def _announce(self) -> None:
        """Socket.IO `schema_change` for every SCHEMA_CHANGE row committed since the last pass, whichever process
        recorded it (rows, not this process's own results: emit after commit, and only once)."""
        if self.publish is None:
            return
        with self.ctx.session_factory() as session:
            if self._announced is None:
                self._announced = session.scalar(select(func.max(PipelineRun.id))) or 0
                return
            rows = list(session.scalars(select(PipelineRun).where(
                PipelineRun.id > self._announced, PipelineRun.run_type == "SCHEMA_CHANGE")
                .order_by(PipelineRun.id).limit(500)))
        for row in rows:
            self._announced = row.id
            self.publish(str(row.pipeline_id), [schema_sync.schema_event_public(row)])

    def check(self, pipeline_id: uuid.UUID) -> schema_sync.SyncResult | None:
        result = schema_sync.sync(self.ctx, pipeline_id, on_blocked=self.pause_for_review)
        if result is None:
            return None
        if result.applied:
            self._recent[pipeline_id] = time.time()
        follow_up(self.ctx, pipeline_id, result)
        if not result.blocked and (result.applied or result.ignored_changed or self._healing(pipeline_id)):
            self._heal_sink(pipeline_id)
        run_deferred_drops(self.ctx, pipeline_id, self.tracker)
        return result

    def _heal_sink(self, pipeline_id: uuid.UUID) -> None:
        """Restart the sink's failed tasks: the target now has what the record that stopped them needs."""
        names = ResourceNames(pipeline_id)
        with ConnectClient.from_settings(self.ctx.settings, timeout=10) as connect:
            status = connect.status_or_none(names.sink_connector)
            if not [t for t in (status or {}).get("tasks", []) if t.get("state") == "FAILED"]:
                return
            with self._guard:
                if (claim := self._claims.get(pipeline_id)) is not None:
                    claim.attempts += 1
            logger.info("restarting the sink's failed tasks after a schema change",
                        extra={"pipeline_id": str(pipeline_id)})
            connect.restart(names.sink_connector, include_tasks=True, only_failed=True)

    def pause_for_review(self, view: schema_sync.PipelineView, result: schema_sync.SyncResult) -> None:
        pause_for_review(self.ctx, view, result)


def pause_for_review(ctx, view: schema_sync.PipelineView, result: schema_sync.SyncResult) -> None:
    """Pause (Connect keeps offsets, the slot keeps WAL: nothing is lost) with the change and the DDL it needs."""
    names = ResourceNames(view.id)
    try:
        with ConnectClient.from_settings(ctx.settings, timeout=10) as connect:
            for name in (names.source_connector, names.sink_connector):
                connect.pause(name)
    except ConnectError as exc:
        logger.warning("could not pause pipeline %s for a schema change: %s", view.id, exc)
        return
    message = result.block_message()[:4000]

    def paused(p: Pipeline) -> None:
        if p.status in (PipelineStatus.RUNNING, PipelineStatus.ERROR):
            fire(p, "schema_pause")
            p.cdc_status, p.last_error = CdcStatus.PAUSED, message

    ctx.update(view.id, paused)
    logger.warning("pipeline %s paused for a schema change: %s", view.id, message, extra={"pipeline_id": str(view.id)})


def follow_up(ctx, pipeline_id: uuid.UUID, result: schema_sync.SyncResult) -> None:
    """What a sync leaves to do, whoever ran it: the sink's exclusions, and resyncs of tables whose existing rows
    hold values no change event carried."""
    if result.ignored_changed:
        update_sink_exclusions(ctx, pipeline_id)
    if result.resync:
        from cdcflow.pipelines.resync import request_resync  # resync builds on schema_sync: imported late

        request_resync(ctx, pipeline_id, result.resync, reason="schema change")


def update_sink_exclusions(ctx, pipeline_id: uuid.UUID) -> None:
    """Keep the sink's field.exclude.list equal to the columns the pipeline ignores (a config update restarts the
    sink's tasks, failed ones included)."""
    view = schema_sync.load_view(ctx, pipeline_id)
    if view is None:
        return
    names = ResourceNames(pipeline_id)
    wanted = ",".join(schema_sync.excluded_fields(names, view.tables))
    with ConnectClient.from_settings(ctx.settings, timeout=10) as connect:
        config = connect.get_config(names.sink_connector)
        if config.get("field.exclude.list", "") == wanted:
            return
        config = {k: v for k, v in config.items() if k != "name"}
        if wanted:
            config["field.exclude.list"] = wanted
        else:
            config.pop("field.exclude.list", None)
        connect.put_config(names.sink_connector, config)
        connect.restart(names.sink_connector, include_tasks=True, only_failed=True)
