"""Ways back for a broken pipeline: restart failed tasks, resync a table, reset to a fresh full load, resume after a
schema change was reviewed, and the schema change policy. Adding and removing tables: pipelines/table_changes.py;
which of these a pipeline offers now: pipelines/recovery_view.py."""

import logging
import threading
import uuid
from typing import Any

from confluent_kafka import Consumer, TopicPartition
from sqlalchemy import select
from sqlalchemy.orm import Session

from cdcflow.audit.service import record
from cdcflow.connections.service import endpoint_for
from cdcflow.core.deps import Actor
from cdcflow.core.errors import Conflict, NotFound, ServiceUnavailable, Unprocessable
from cdcflow.engine.connect.client import ConnectError
from cdcflow.engine.context import EngineContext
from cdcflow.engine.jobs import JobRunner
from cdcflow.engine.names import ResourceNames
from cdcflow.engine.ports import source_adapter
from cdcflow.engine.schema_evolution import PROPAGATE
from cdcflow.models import (
    CdcStatus,
    Connection,
    FullLoadStatus,
    Pipeline,
    PipelineRun,
    PipelineStatus,
    SchemaChangePolicy,
)
from cdcflow.pipelines import schema_sync
from cdcflow.pipelines.capabilities import SIGNAL_CHECKS, refuse_gap
from cdcflow.pipelines.resync import request_resync
from cdcflow.pipelines.lifecycle_jobs import start_pipeline_job
from cdcflow.pipelines.schema_watch import (
    follow_up,
    pause_for_review,
    update_sink_exclusions,
)
from cdcflow.pipelines.service import get_pipeline
from cdcflow.pipelines.states import check_transition, fire

logger = logging.getLogger(__name__)


def _sync_or_conflict(ctx: EngineContext, pipeline_id: uuid.UUID, policy: str | None = None) -> None:
    """Bring the target in line with the source before the connectors go on; a change that needs a person is a 409
    with the statement it needs (and, from RUNNING, the pipeline pauses)."""
    try:
        result = schema_sync.sync(ctx, pipeline_id, policy=policy, force=True,
                                  on_blocked=lambda view, res: pause_for_review(ctx, view, res))
        if result is not None:
            follow_up(ctx, pipeline_id, result)
    except Exception as exc:  # noqa: BLE001  (a source we cannot read is the connectors' problem to report)
        logger.warning("schema check before recovery failed: %s", exc, extra={"pipeline_id": str(pipeline_id)})
        return
    if result is not None and result.blocked:
        raise Conflict(result.block_message(), {"pending": [{"table": t, **c.public()} for t, c in result.blocked]})


def restart_failed(session: Session, ctx: EngineContext, actor: Actor, pipeline_id: uuid.UUID,
                   failed_only: bool) -> Pipeline:
    pipeline = get_pipeline(session, pipeline_id)
    check_transition("restart", pipeline.status)
    session.commit()  # no row lock while the target and Connect are called
    _sync_or_conflict(ctx, pipeline_id)
    names = ResourceNames(pipeline_id)
    restarted = []
    try:
        with ctx.connect() as connect:
            for name in (names.source_connector, names.sink_connector):
                if connect.exists(name):
                    connect.restart(name, include_tasks=True, only_failed=failed_only)
                    restarted.append(name)
    except ConnectError as exc:
        raise ServiceUnavailable(f"Kafka Connect could not restart the connectors: {exc}") from None
    if not restarted:
        raise Conflict("The pipeline has no connectors to restart; start it instead")
    pipeline = get_pipeline(session, pipeline_id, for_update=True)
    fire(pipeline, "restart")
    pipeline.cdc_status, pipeline.last_error = CdcStatus.RUNNING, None
    record(session, actor, "pipeline.restart", f"pipeline:{pipeline.id}", {"failed_only": failed_only})
    return pipeline


def resume_after_review(ctx: EngineContext, pipeline: Pipeline) -> None:
    """Before a paused pipeline resumes: apply what was held for review (as propagate would), refuse while a change
    still needs the user's DDL. Called without the pipeline's row lock."""
    if any((t.schema_state or {}).get("pending") for t in pipeline.tables) or \
            pipeline.schema_change_policy == SchemaChangePolicy.PAUSE:
        _sync_or_conflict(ctx, pipeline.id, policy=PROPAGATE)


def restart_failed_tasks_quietly(ctx: EngineContext, pipeline_id: uuid.UUID) -> None:
    """After a resume: a sink task that stopped at a schema change before the pause is FAILED, not PAUSED."""
    names = ResourceNames(pipeline_id)
    try:
        with ctx.connect() as connect:
            for name in (names.source_connector, names.sink_connector):
                connect.restart(name, include_tasks=True, only_failed=True)
    except ConnectError as exc:
        logger.warning("could not restart failed tasks after resume: %s", exc)


def resync(session: Session, ctx: EngineContext, actor: Actor, pipeline_id: uuid.UUID, table: str) -> Pipeline:
    pipeline = get_pipeline(session, pipeline_id)
    check_transition("resync", pipeline.status)
    refuse_gap(session, pipeline, "resync")
    row = next((t for t in pipeline.tables if t.qualified_name == table), None)
    if row is None:
        raise NotFound(f"Table {table} is not part of this pipeline")
    if (row.schema_state or {}).get("resync", {}).get("state") in ("REQUESTED", "RUNNING"):
        raise Conflict(f"Table {table} is being resynced already")
    record(session, actor, "pipeline.resync", f"pipeline:{pipeline.id}", {"table": table})
    session.commit()
    SIGNAL_CHECKS.forget(pipeline_id)  # the next status shows what this attempt found
    request_resync(ctx, pipeline_id, [table], reason="requested")
    session.expire_all()
    return get_pipeline(session, pipeline_id)


def schema_changes(session: Session, pipeline_id: uuid.UUID, limit: int) -> list[dict[str, Any]]:
    get_pipeline(session, pipeline_id)
    rows = session.scalars(select(PipelineRun).where(PipelineRun.pipeline_id == pipeline_id,
                                                     PipelineRun.run_type == "SCHEMA_CHANGE")
                           .order_by(PipelineRun.id.desc()).limit(limit))
    return [schema_sync.schema_event_public(r) for r in rows]


def update_policy(session: Session, ctx: EngineContext, actor: Actor, pipeline_id: uuid.UUID,
                  policy: SchemaChangePolicy, drop_removed: bool | None) -> Pipeline:
    """Editable in any state. Leaving `ignore` makes the ignored columns copied from now on (their past values need
    the resync the next schema check starts)."""
    pipeline = get_pipeline(session, pipeline_id, for_update=True)
    before = pipeline.schema_change_policy
    pipeline.schema_change_policy = policy
    if drop_removed is not None:
        pipeline.drop_removed_columns = drop_removed
    if before == SchemaChangePolicy.IGNORE and policy != SchemaChangePolicy.IGNORE:
        for t in pipeline.tables:
            t.schema_state = {**(t.schema_state or {}), "ignored": []}
    record(session, actor, "pipeline.schema_policy", f"pipeline:{pipeline.id}",
           {"policy": policy.value, "drop_removed_columns": pipeline.drop_removed_columns})
    running = pipeline.status in (PipelineStatus.RUNNING, PipelineStatus.ERROR)
    session.commit()
    if running and before != policy:
        if before == SchemaChangePolicy.IGNORE:
            update_sink_exclusions(ctx, pipeline_id)
        threading.Thread(target=_sync_quietly, args=(ctx, pipeline_id), daemon=True).start()
    return get_pipeline(session, pipeline_id)


def _sync_quietly(ctx: EngineContext, pipeline_id: uuid.UUID) -> None:
    try:
        result = schema_sync.sync(ctx, pipeline_id, force=True,
                                  on_blocked=lambda view, res: pause_for_review(ctx, view, res))
        if result is not None:
            follow_up(ctx, pipeline_id, result)
    except Exception as exc:  # noqa: BLE001  (the watcher's next pass tries again)
        logger.warning("schema check after a policy change failed: %s", exc)


# ---------------------------------------------------------------------------------------------------- reset

def reset(session: Session, ctx: EngineContext, jobs: JobRunner, actor: Actor, pipeline_id: uuid.UUID,
          confirm: str) -> Pipeline:
    """Stop, forget the slot and the offsets, and start again from a fresh full load: one explicit action."""
    pipeline = get_pipeline(session, pipeline_id, for_update=True)
    if confirm != pipeline.name:
        raise Unprocessable("Confirm the reset by sending the pipeline's name as \"confirm\"",
                            {"field": "confirm"})
    if jobs.active(pipeline.id):
        raise Conflict("A job for this pipeline is still running; try again in a moment")
    fire(pipeline, "reset")
    pipeline.last_error = None
    if ctx.leases is not None:  # STARTING always has a lease: the watchdog takes the job over if this process dies
        ctx.leases.acquire(session, pipeline.id, "start")
    record(session, actor, "pipeline.reset", f"pipeline:{pipeline.id}", {"name": pipeline.name})
    session.commit()
    jobs.submit(pipeline.id, lambda cancel: reset_job(ctx, pipeline_id, cancel))
    return pipeline


def _topic_ends(bootstrap: str, topics: list[str]) -> dict[str, int]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "cdcflow-reset-probe",
                         "enable.auto.commit": False})
    try:
        ends = {}
        for topic in topics:
            try:
                ends[topic] = consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)[1]
            except Exception:  # noqa: BLE001  (a topic never created has nothing to skip)
                continue
        return ends
    finally:
        consumer.close()


def reset_job(ctx: EngineContext, pipeline_id: uuid.UUID, cancel: threading.Event) -> None:
    names = ResourceNames(pipeline_id)
    try:
        with ctx.connect() as connect:
            present = [n for n in (names.source_connector, names.sink_connector) if connect.exists(n)]
            for name in present:
                connect.stop(name)
            for name in present:
                connect.wait_for_state(name, "STOPPED", ctx.settings.connector_start_timeout_seconds)
            if names.source_connector in present:
                connect.delete_offsets(names.source_connector)
            if names.sink_connector in present:
                # Everything already in the topics predates the new full load: the sink must never apply it again.
                ends = _topic_ends(ctx.settings.kafka_bootstrap_servers, _pipeline_topics(ctx, pipeline_id))
                if ends:
                    connect.alter_offsets(names.sink_connector, [
                        {"partition": {"kafka_topic": t, "kafka_partition": 0}, "offset": {"kafka_offset": e}}
                        for t, e in ends.items()])
        _drop_slot(ctx, pipeline_id)
        _columns_for_the_load(ctx, pipeline_id)
    except Exception as exc:  # noqa: BLE001  (reported on the pipeline, like a failed start)
        message = f"Reset failed: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"[:2000]

        def failed(p: Pipeline) -> None:
            fire(p, "reset_failed")
            p.last_error = message

        ctx.finish(pipeline_id, failed)  # and the lease goes with it
        return

    def fresh(p: Pipeline) -> None:
        p.full_load_status, p.cdc_status = FullLoadStatus.NOT_STARTED, CdcStatus.NOT_STARTED
        for t in p.tables:
            state = dict(t.schema_state or {})
            for key in ("source", "pending", "drops", "resync"):
                state.pop(key, None)
            t.schema_state = state

    ctx.update(pipeline_id, fresh)
    start_pipeline_job(ctx, pipeline_id, cancel)


def _columns_for_the_load(ctx: EngineContext, pipeline_id: uuid.UUID) -> None:
    """The full load copies the source's columns: give the target what propagate would (added columns, widened
    types). What it cannot do (a rename, a narrowing) makes the load fail with the database's message."""
    try:
        schema_sync.sync(ctx, pipeline_id, policy=PROPAGATE, force=True)
    except Exception as exc:  # noqa: BLE001  (e.g. a target table not created yet: the start creates it)
        logger.info("schema check before the reset's full load: %s", exc, extra={"pipeline_id": str(pipeline_id)})


def _pipeline_topics(ctx: EngineContext, pipeline_id: uuid.UUID) -> list[str]:
    with ctx.session_factory() as session:
        p = session.get(Pipeline, pipeline_id)
        names = ResourceNames(pipeline_id)
        return sorted(set(p.kafka_topics or []) | {names.topic(t.schema_name, t.table_name) for t in p.tables})


def _drop_slot(ctx: EngineContext, pipeline_id: uuid.UUID) -> None:
    with ctx.session_factory() as session:
        p = session.get(Pipeline, pipeline_id)
        endpoint = endpoint_for(ctx.box, session.get(Connection, p.source_connection_id), ctx.policy)
    source_adapter(endpoint, ctx.settings.connection_test_timeout_seconds).drop_slot(ResourceNames(pipeline_id).slot)
