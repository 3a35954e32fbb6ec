"""Start, stop, pause, resume and delete: the state check and commit here, the slow work in background jobs."""

import logging
import uuid

from sqlalchemy import func
from sqlalchemy.orm import Session

from cdcflow.access.service import drop_grants
from cdcflow.audit.service import record
from cdcflow.connections.service import endpoint_for
from cdcflow.core.deps import Actor
from cdcflow.core.errors import Conflict, ServiceUnavailable, Unprocessable
from cdcflow.engine.connect.client import ConnectError
from cdcflow.engine.context import EngineContext
from cdcflow.engine.jobs import JobRunner
from cdcflow.engine.names import ResourceNames
from cdcflow.engine.outbound import HostUnresolvable, OutboundRefused
from cdcflow.engine.ports import source_adapter
from cdcflow.engine.postgres.inspect import EndpointUnreachable
from cdcflow.engine.topics import delete_topics
from cdcflow.models import (
    AccessLevel,
    CdcStatus,
    Connection,
    Pipeline,
    PipelineStatus,
    ResourceType,
)
from cdcflow.pipelines import recovery
from cdcflow.pipelines.lifecycle_jobs import start_pipeline_job, stop_pipeline_job
from cdcflow.pipelines.service import get_pipeline_for
from cdcflow.pipelines.states import check_transition, fire

logger = logging.getLogger(__name__)


def _require_primary_keys(ctx: EngineContext, session: Session, pipeline: Pipeline) -> None:
    """A clear 422 before anything starts; an unreachable source is left for the job to report as ERROR."""
    source = session.get(Connection, pipeline.source_connection_id)
    timeout = ctx.settings.connection_test_timeout_seconds
    adapter = source_adapter(endpoint_for(ctx.box, source, ctx.policy), timeout)
    try:
        tables, _ = adapter.read_tables([t.qualified_name for t in pipeline.tables])
    except EndpointUnreachable:
        return
    no_pk = [t.qualified for t in tables if not t.primary_key]
    if no_pk:
        raise Unprocessable(f"Tables without a primary key cannot be replicated: {', '.join(no_pk)}",
                            {"tables_without_primary_key": no_pk})


def _require_allowed_addresses(ctx: EngineContext, session: Session, pipeline: Pipeline) -> None:
    """The outbound policy for both ends, now (the job's connections check it again, and pin the address)."""
    for role, connection_id in (("source", pipeline.source_connection_id),
                                ("target", pipeline.target_connection_id)):
        conn = session.get(Connection, connection_id)
        try:
            ctx.policy.check(conn.host, conn.port, conn.database)
        except OutboundRefused as exc:
            raise Unprocessable(f"The {role} connection {conn.name!r} is not allowed by policy: {exc.reason}",
                                {"field": f"{role}_connection_id", "connection_field": exc.field}) from None
        except HostUnresolvable:
            pass  # like an unreachable source: the job reports it as the pipeline's error


def _lease(ctx: EngineContext, session: Session, pipeline_id: uuid.UUID, kind: str) -> None:
    """Committed with the status change, so a STARTING/STOPPING pipeline always has a lease to watch."""
    if ctx.leases is not None:
        ctx.leases.acquire(session, pipeline_id, kind)


def start(session: Session, ctx: EngineContext, jobs: JobRunner, actor: Actor, pipeline_id: uuid.UUID) -> Pipeline:
    # Access, then the checks that go to the network (the outbound policy resolves hosts, the primary keys are read
    # from the source) before the row lock; the locked re-check below decides.
    pipeline = get_pipeline_for(session, actor, pipeline_id, AccessLevel.OPERATE)
    _require_allowed_addresses(ctx, session, pipeline)
    if pipeline.status == PipelineStatus.PAUSED:
        return resume(session, ctx, actor, pipeline_id)
    check_transition("start", pipeline.status)
    _require_primary_keys(ctx, session, pipeline)
    session.commit()
    pipeline = get_pipeline_for(session, actor, pipeline_id, AccessLevel.OPERATE, for_update=True)
    if jobs.active(pipeline.id):
        raise Conflict("A job for this pipeline is still running; try again in a moment")
    fire(pipeline, "start")
    pipeline.last_error = None
    _lease(ctx, session, pipeline.id, "start")
    record(session, actor, "pipeline.start", f"pipeline:{pipeline.id}")
    session.commit()  # the job must see STARTING
    jobs.submit(pipeline.id, lambda cancel: start_pipeline_job(ctx, pipeline_id, cancel))
    return pipeline


def stop(session: Session, ctx: EngineContext, jobs: JobRunner, actor: Actor, pipeline_id: uuid.UUID) -> Pipeline:
    pipeline = get_pipeline_for(session, actor, pipeline_id, AccessLevel.OPERATE, for_update=True)
    if pipeline.status == PipelineStatus.STARTING:
        # Cancel the start: its job undoes what it created and ends in STOPPED. A job running in another API
        # process (or in none: it died) is cancelled through its lease (pipelines/watchdog.py).
        # Both: the flag is what the job's final transaction re-checks under this row's lock (EngineContext.finish),
        # so a start that was about to succeed cannot overtake this stop.
        if ctx.leases is not None:
            ctx.leases.request_cancel(session, pipeline.id)
        jobs.cancel(pipeline.id)
        record(session, actor, "pipeline.stop", f"pipeline:{pipeline.id}", {"cancelled_start": True})
        return pipeline
    fire(pipeline, "stop")
    _lease(ctx, session, pipeline.id, "stop")
    record(session, actor, "pipeline.stop", f"pipeline:{pipeline.id}")
    session.commit()
    jobs.submit(pipeline.id, lambda cancel: stop_pipeline_job(ctx, pipeline_id, cancel))
    return pipeline


def _each_connector(ctx: EngineContext, pipeline: Pipeline, action: str) -> None:
    names = ResourceNames(pipeline.id)
    try:
        with ctx.connect() as connect:
            for name in (names.source_connector, names.sink_connector):
                getattr(connect, action)(name)
    except ConnectError as exc:
        raise ServiceUnavailable(f"Kafka Connect could not {action} the connectors: {exc}") from None


def _pause_or_resume(session: Session, ctx: EngineContext, actor: Actor, pipeline_id: uuid.UUID, action: str,
                     cdc_status: CdcStatus) -> Pipeline:
    pipeline = get_pipeline_for(session, actor, pipeline_id, AccessLevel.OPERATE)
    check_transition(action, pipeline.status)
    session.commit()  # no row lock while Connect is called
    _each_connector(ctx, pipeline, action)
    pipeline = get_pipeline_for(session, actor, pipeline_id, AccessLevel.OPERATE, for_update=True)
    fire(pipeline, action)  # Conflict if the status moved meanwhile
    pipeline.cdc_status = cdc_status
    record(session, actor, f"pipeline.{action}", f"pipeline:{pipeline.id}")
    return pipeline


def pause(session: Session, ctx: EngineContext, actor: Actor, pipeline_id: uuid.UUID) -> Pipeline:
    return _pause_or_resume(session, ctx, actor, pipeline_id, "pause", CdcStatus.PAUSED)


def resume(session: Session, ctx: EngineContext, actor: Actor, pipeline_id: uuid.UUID) -> Pipeline:
    pipeline = get_pipeline_for(session, actor, pipeline_id, AccessLevel.OPERATE)
    check_transition("resume", pipeline.status)
    session.commit()  # the schema review below calls the databases: no row lock meanwhile
    recovery.resume_after_review(ctx, pipeline)
    resumed = _pause_or_resume(session, ctx, actor, pipeline_id, "resume", CdcStatus.RUNNING)
    resumed.last_error = None
    recovery.restart_failed_tasks_quietly(ctx, pipeline_id)
    return resumed


def delete(session: Session, ctx: EngineContext, actor: Actor, pipeline_id: uuid.UUID, force: bool) -> None:
    """Connectors, slot, publication, topics and secrets go; then the row is soft-deleted.

    The cleanup calls Connect, the source and Kafka with no row lock held; the soft delete re-checks the status
    under the lock (a start that slipped in meanwhile makes it a 409, and that start recreates what it needs)."""
    pipeline = get_pipeline_for(session, actor, pipeline_id, AccessLevel.MANAGE)
    check_transition("delete", pipeline.status)
    topics = list(pipeline.kafka_topics or [])
    source = session.get(Connection, pipeline.source_connection_id)
    session.commit()
    names = ResourceNames(pipeline_id)
    problems: list[str] = []
    try:
        with ctx.connect() as connect:
            connect.delete(names.source_connector)
            connect.delete(names.sink_connector)
    except ConnectError as exc:
        problems.append(f"connectors: {exc}")
    try:
        timeout = ctx.settings.connection_test_timeout_seconds
        adapter = source_adapter(endpoint_for(ctx.box, source, ctx.policy), timeout)
        adapter.drop_slot(names.slot)
        adapter.drop_publication(names.publication)
        adapter.drop_signal_table(names.signal_schema, names.signal_table)
    except Exception as exc:  # noqa: BLE001  (reported, and blocks the delete unless forced)
        problems.append(f"source cleanup: {exc}")
    if problems and not force:
        raise Conflict("The pipeline's resources could not all be removed; fix the cause and retry, or delete "
                       "with force=true (a leftover replication slot keeps WAL on the source)",
                       {"problems": problems})
    try:
        if source.database_type.value == "mariadb":  # its connector's schema history topic goes too
            topics.append(names.schema_history_topic)
        delete_topics(ctx.settings.kafka_bootstrap_servers, topics)
    except Exception as exc:  # noqa: BLE001  (topics age out by retention; not worth blocking the delete)
        logger.warning("could not delete topics of pipeline %s: %s", pipeline_id, exc)
    ctx.secrets().remove(pipeline_id)
    pipeline = get_pipeline_for(session, actor, pipeline_id, AccessLevel.MANAGE, for_update=True)
    check_transition("delete", pipeline.status)
    pipeline.deleted_at = func.now()
    drop_grants(session, ResourceType.PIPELINE, pipeline.id)
    record(session, actor, "pipeline.delete", f"pipeline:{pipeline.id}",
           {"name": pipeline.name, "forced": force, "problems": problems})
