"""When the API dies during a start or a stop: the job watchdog every API process runs, and what a takeover does.

The watchdog renews the leases of this process's jobs (engine/leases.py) and takes over jobs whose lease lapsed:

- a stop is simply run again (stopping connectors is idempotent);
- a start that had finished its full load (or needs none: CDC only) is run again: it finds the slot and the loaded
  tables and goes on with the connectors;
- a start that died during its full load cannot be resumed exactly. The load ran inside a snapshot exported with
  the replication slot; that snapshot died with the process's replication connection. Copying the missing ranges
  from a new snapshot would mix two points in time in the target, and streaming from the old slot would replay
  changes onto rows copied after them. So the start ends in ERROR ("Start interrupted"), the slot is dropped (it
  holds WAL on the source and no completed load refers to it), and the next start truncates the partly loaded
  target tables and loads them again from a fresh snapshot. Start is allowed again at once.
"""

import logging
import uuid

from cdcflow.core.db import session_scope
from cdcflow.core.loop import LoopService
from cdcflow.engine.context import EngineContext
from cdcflow.engine.jobs import JobRunner
from cdcflow.engine.leases import Lapsed
from cdcflow.engine.names import ResourceNames
from cdcflow.engine.ports import source_adapter
from cdcflow.models import CdcStatus, FullLoadStatus, Pipeline, PipelineMode
from cdcflow.pipelines.lifecycle_jobs import _load_plan, start_pipeline_job, stop_pipeline_job
from cdcflow.pipelines.states import fire

logger = logging.getLogger(__name__)


def load_unfinished(mode: PipelineMode, full_load_status: FullLoadStatus) -> bool:
    return mode != PipelineMode.CDC_ONLY and full_load_status != FullLoadStatus.COMPLETED


class JobWatchdog(LoopService):
    name = "job-watchdog"
    run_first = True

    def __init__(self, ctx: EngineContext, jobs: JobRunner, interval: float) -> None:
        super().__init__()
        self.ctx, self.jobs, self.interval = ctx, jobs, interval

    def run_once(self) -> None:
        leases = self.ctx.leases
        running = set(self.jobs.active_ids())
        lost, cancels = leases.renew(self.ctx.session_factory, list(running))
        for pipeline_id in lost:
            logger.warning("lost the lease of pipeline %s's job to another process; cancelling it here", pipeline_id)
            self.jobs.cancel(pipeline_id)
        for pipeline_id in cancels:
            self.jobs.cancel(pipeline_id)
        with session_scope(self.ctx.session_factory) as session:
            taken = leases.take_over_lapsed(session, running)
        for lapsed in taken:
            self.take_over(lapsed)

    def take_over(self, lapsed: Lapsed) -> None:
        ctx, pipeline_id = self.ctx, lapsed.pipeline_id
        with session_scope(ctx.session_factory) as session:
            pipeline = session.get(Pipeline, pipeline_id)
            mode, full_load_status = pipeline.mode, pipeline.full_load_status
        logger.warning("taking over the %s job of pipeline %s (owner %s, last heartbeat %s)", lapsed.kind,
                       pipeline_id, lapsed.previous_owner or "none", lapsed.last_heartbeat,
                       extra={"pipeline_id": str(pipeline_id)})
        if lapsed.kind == "stop" or (lapsed.cancel_requested and not load_unfinished(mode, full_load_status)):
            job = lambda cancel: stop_pipeline_job(ctx, pipeline_id, cancel)  # noqa: E731
        elif load_unfinished(mode, full_load_status):
            job = lambda cancel: release_interrupted_start(ctx, pipeline_id, lapsed)  # noqa: E731
        else:
            job = lambda cancel: start_pipeline_job(ctx, pipeline_id, cancel)  # noqa: E731
        self.jobs.submit(pipeline_id, job)


def release_interrupted_start(ctx: EngineContext, pipeline_id: uuid.UUID, lapsed: Lapsed) -> None:
    """Drop what the dead load held, then ERROR (or STOPPED when a stop was asked for) with the reason."""
    mode, _, _, source_ep, _ = _load_plan(ctx, pipeline_id)
    slot = ResourceNames(pipeline_id).slot
    released, problems = [], []
    if mode == PipelineMode.FULL_LOAD_AND_CDC:
        try:
            source = source_adapter(source_ep, ctx.settings.connection_test_timeout_seconds)
            if source.slot_exists(slot):
                source.drop_slot(slot)
                released.append(f"replication slot {slot}")
        except Exception as exc:  # noqa: BLE001  (reported; the next start drops a stale slot anyway)
            problems.append(f"The replication slot {slot} could not be dropped ({type(exc).__name__}: {exc}); "
                            "the next start drops it.")
    heartbeat = lapsed.last_heartbeat.isoformat(timespec="seconds") if lapsed.last_heartbeat else "never"
    parts = [f"Start interrupted: the API process running it stopped before the full load completed (last "
             f"heartbeat {heartbeat})."]
    if released:
        parts.append(f"Released: {', '.join(released)}.")
    parts += problems
    parts.append("Start again to load from the beginning; partly loaded target tables are emptied first.")
    message = " ".join(parts)

    def interrupted(p: Pipeline) -> None:
        fire(p, "cancel_start" if lapsed.cancel_requested else "interrupt")
        p.last_error = None if lapsed.cancel_requested else message
        if p.full_load_status == FullLoadStatus.RUNNING:
            p.full_load_status = FullLoadStatus.NOT_STARTED if lapsed.cancel_requested else FullLoadStatus.FAILED
        if p.cdc_status == CdcStatus.STARTING:
            p.cdc_status = CdcStatus.NOT_STARTED if lapsed.cancel_requested else CdcStatus.ERROR
        for table in p.tables:
            if table.state in ("PENDING", "COPYING"):
                table.state, table.error = "FAILED", "interrupted"

    if ctx.finish(pipeline_id, interrupted):
        logger.warning("pipeline %s: %s", pipeline_id, message, extra={"pipeline_id": str(pipeline_id)})
