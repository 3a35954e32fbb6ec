"""Keeps each pipeline's status in line with Kafka Connect (a small loop service: run_once, interval, clean stop).

RUNNING with a failed task, a missing connector or Connect unreachable -> ERROR with the reason; ERROR whose
connectors are all RUNNING again -> RUNNING. STARTING/STOPPING belong to their job and its lease (pipelines/watchdog.py).
"""

import logging
import uuid
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cdcflow.core.db import session_scope
from cdcflow.core.loop import LoopService
from cdcflow.engine.connect.client import ConnectClient
from cdcflow.engine.connect.view import connector_snapshot
from cdcflow.models import CdcStatus, Pipeline, PipelineStatus
from cdcflow.monitoring.health import LOST_SLOT_ERROR
from cdcflow.pipelines.states import fire

logger = logging.getLogger(__name__)


class Reconciler(LoopService):
    name = "reconciler"

    def __init__(self, session_factory: sessionmaker[Session], connect: Callable[[], ConnectClient],
                 interval: float, healing: Callable[[uuid.UUID, str], bool] | None = None) -> None:
        super().__init__()
        self.session_factory, self.connect, self.interval = session_factory, connect, interval
        # Asked before a problem turns RUNNING into ERROR: True while another service heals it (a sink task stopped
        # by a schema change, restarted by the schema watcher once the target is ready).
        self.healing = healing

    def run_once(self) -> None:
        # Read, then ask Connect with no transaction open, then lock each row and re-check before writing: a row
        # lock is never held across an HTTP call (docs/architecture.md, transaction discipline).
        with self.session_factory() as session:
            seen = session.execute(select(Pipeline.id, Pipeline.status).where(
                Pipeline.deleted_at.is_(None), Pipeline.sink_connector_name.is_not(None),
                Pipeline.status.in_([PipelineStatus.RUNNING, PipelineStatus.ERROR]))).all()
        if not seen:
            return
        with self.connect() as connect:
            problems = {pid: (status, _problem(connector_snapshot(connect, pid))) for pid, status in seen}
        for pipeline_id, (status, problem) in problems.items():
            if status == PipelineStatus.RUNNING and problem and self.healing and self.healing(pipeline_id, problem):
                continue
            with session_scope(self.session_factory) as session:
                pipeline = session.scalar(select(Pipeline).where(Pipeline.id == pipeline_id)
                                          .with_for_update(skip_locked=True))
                if pipeline is not None and pipeline.status == status:  # unchanged since Connect was asked
                    self._reconcile(pipeline, problem)

    def _reconcile(self, pipeline: Pipeline, problem: str | None) -> None:
        if pipeline.sink_connector_name is None or pipeline.deleted_at is not None:
            return  # never reached CDC (full load only, or failed before the connectors)
        if pipeline.status == PipelineStatus.RUNNING and problem:
            logger.warning("pipeline %s -> ERROR: %s", pipeline.id, problem)
            fire(pipeline, "connector_failed")
            pipeline.cdc_status, pipeline.last_error = CdcStatus.ERROR, problem
        elif pipeline.status == PipelineStatus.ERROR and pipeline.cdc_status == CdcStatus.ERROR and not problem \
                and pipeline.last_error != LOST_SLOT_ERROR:  # running connectors cannot bring back lost WAL
            logger.info("pipeline %s recovered -> RUNNING", pipeline.id)
            fire(pipeline, "recovered")
            pipeline.cdc_status, pipeline.last_error = CdcStatus.RUNNING, None


def _problem(snapshot: dict) -> str | None:
    if not snapshot["reachable"]:
        return f"Kafka Connect unreachable: {snapshot['error']}"
    for role in ("source", "sink"):
        view = snapshot[role]
        if not view["exists"]:
            return f"The {role} connector is missing from Kafka Connect"
        if view["state"] == "FAILED":
            return f"The {role} connector failed: {view.get('error') or 'no trace'}"
        for task in view["tasks"]:
            if task["state"] == "FAILED":
                return f"The {role} connector's task {task['id']} failed: {task.get('error') or 'no trace'}"
        if not view["tasks"] or any(t["state"] != "RUNNING" for t in view["tasks"]) or view["state"] != "RUNNING":
            return f"The {role} connector is {view['state']} (tasks: " + \
                   ", ".join(t["state"] for t in view["tasks"]) + ")"
    return None
