"""Add or remove a table on a running pipeline; the other tables keep streaming (nothing of theirs is reloaded).

Add: REPLICA IDENTITY FULL and ALTER PUBLICATION ... ADD TABLE on the source, the table (with its key) on the target,
the topic, then the source connector's table.include.list and the sink's topics (each a config update: Connect
restarts that connector's task, which resumes from its committed offset), then the table's initial load through the
resync path (an incremental snapshot). Changes made to the new table before its snapshot starts are in the snapshot.
Remove: the connectors stop reading it first, then it leaves the publication; its target table and topic are kept.
"""

import logging
import threading
import uuid

from psycopg import sql
from sqlalchemy import func
from sqlalchemy.orm import Session

from cdcflow.audit.service import record
from cdcflow.core.deps import Actor
from cdcflow.core.errors import Conflict, NotFound, Unprocessable
from cdcflow.engine.ports import source_adapter, target_adapter
from cdcflow.engine.connect.client import ConnectClient
from cdcflow.engine.connect.configs import sink_config, source_config
from cdcflow.engine.jobs import JobRunner
from cdcflow.engine.names import ResourceNames
from cdcflow.engine.postgres.ddl import ident
from cdcflow.engine.postgres.inspect import open_connection
from cdcflow.engine.topics import ensure_topics
from cdcflow.models import Pipeline, PipelineStatus, PipelineTable
from cdcflow.pipelines import schema_sync
from cdcflow.pipelines.capabilities import SIGNAL_CHECKS, refuse_gap
from cdcflow.pipelines.resync import request_resync, signal_problem
from cdcflow.engine.context import EngineContext
from cdcflow.pipelines.service import get_pipeline
from cdcflow.pipelines.states import check_transition

logger = logging.getLogger(__name__)


def add_table(session: Session, ctx: EngineContext, jobs: JobRunner, actor: Actor, pipeline_id: uuid.UUID,
              table: str) -> Pipeline:
    """Add `table`, or try again a table whose adding FAILED (its row is reused: nothing else is reloaded)."""
    pipeline = get_pipeline(session, pipeline_id)
    _check_add(pipeline, jobs, table)
    refuse_gap(session, pipeline, "add_table")
    session.commit()  # the source is read below: no row lock meanwhile
    view = schema_sync.load_view(ctx, pipeline_id)
    SIGNAL_CHECKS.forget(pipeline_id)
    problem = signal_problem(ctx, view)
    if problem:  # found before the table is listed, not by the job after it
        raise Unprocessable(f"Adding a table needs Debezium's signal table on the source: {problem}",
                            {"table": table})
    found, missing = source_adapter(view.source, ctx.settings.connection_test_timeout_seconds).read_tables([table])
    if missing:
        raise Unprocessable(f"Table {table} not found in the source", {"missing_tables": missing})
    if not found[0].primary_key:
        raise Unprocessable(f"Table {table} has no primary key and cannot be replicated",
                            {"tables_without_primary_key": [table]})
    pipeline = get_pipeline(session, pipeline_id, for_update=True)
    _check_add(pipeline, jobs, table)  # again, under the lock: the decision is made here
    schema, name = table.split(".", 1)
    failed = next((t for t in pipeline.tables if t.qualified_name == table), None)
    if failed is not None:
        failed.state, failed.error, failed.rows_copied, failed.bytes_copied = "PENDING", None, 0, 0
        failed.schema_state = {**(failed.schema_state or {}), "adding": True}
    else:
        position = max((t.position for t in pipeline.tables), default=-1) + 1
        pipeline.tables.append(PipelineTable(schema_name=schema, table_name=name, position=position, state="PENDING",
                                             schema_state={"adding": True}))  # the schema watcher waits for its job
    record(session, actor, "pipeline.add_table", f"pipeline:{pipeline.id}",
           {"table": table, **({"retry": True} if failed is not None else {})})
    session.commit()
    jobs.submit(pipeline.id, lambda cancel: add_table_job(ctx, pipeline_id, table, cancel))
    return get_pipeline(session, pipeline_id)


def _check_add(pipeline: Pipeline, jobs: JobRunner, table: str) -> None:
    check_transition("add_table", pipeline.status)
    # A table whose adding failed may be added again (a retry); any other state means it is there already.
    if any(t.qualified_name == table and t.state != "FAILED" for t in pipeline.tables):
        raise Conflict(f"Table {table} is already part of this pipeline")
    if jobs.active(pipeline.id):
        raise Conflict("A job for this pipeline is still running; try again in a moment")


def remove_table(session: Session, ctx: EngineContext, jobs: JobRunner, actor: Actor, pipeline_id: uuid.UUID,
                 table: str) -> Pipeline:
    pipeline = get_pipeline(session, pipeline_id, for_update=True)
    check_transition("remove_table", pipeline.status)
    refuse_gap(session, pipeline, "remove_table")
    if not any(t.qualified_name == table for t in pipeline.tables):
        raise NotFound(f"Table {table} is not part of this pipeline")
    if len(pipeline.tables) == 1:
        raise Unprocessable("A pipeline keeps at least one table; delete the pipeline instead")
    if jobs.active(pipeline.id):
        raise Conflict("A job for this pipeline is still running; try again in a moment")
    record(session, actor, "pipeline.remove_table", f"pipeline:{pipeline.id}", {"table": table})
    session.commit()
    remove_table_job(ctx, pipeline_id, table, pipeline.status)
    session.expire_all()
    return get_pipeline(session, pipeline_id)


def _reconfigure(ctx: EngineContext, pipeline_id: uuid.UUID, tables: list[str], wait_for: str) -> list[str]:
    """Both connectors' configs for `tables`; returns the topics. Source first: it decides what gets captured."""
    view = schema_sync.load_view(ctx, pipeline_id)
    names = ResourceNames(pipeline_id)
    topics = [names.topic(*t.split(".", 1)) for t in tables]
    secrets = ctx.secrets()
    source_ref = secrets.write(pipeline_id, "source_password", view.source.password)
    target_ref = secrets.write(pipeline_id, "target_password", view.target.password)
    states = {t: s for t, s in view.tables.items() if t in tables}
    bootstrap = ctx.settings.kafka_bootstrap_servers
    with ConnectClient.from_settings(ctx.settings, timeout=15) as connect:
        signals = "signal.data.collection" in connect.get_config(names.source_connector)
        for name, config in (
                (names.source_connector, source_config(names, view.source, tables, source_ref, signals=signals,
                                                       bootstrap=bootstrap)),
                (names.sink_connector, sink_config(names, view.target, topics, target_ref, bootstrap=bootstrap,
                                                   exclude_fields=schema_sync.excluded_fields(names, states),
                                                   source_type=view.source.database_type))):
            connect.put_config(name, config)
            connect.wait_for_state(name, wait_for, ctx.settings.connector_start_timeout_seconds)
    return topics


def add_table_job(ctx: EngineContext, pipeline_id: uuid.UUID, table: str, cancel: threading.Event) -> None:
    names = ResourceNames(pipeline_id)
    timeout = ctx.settings.connection_test_timeout_seconds
    try:
        view = schema_sync.load_view(ctx, pipeline_id)
        source = source_adapter(view.source, timeout)
        (definition,), _ = source.read_tables([table])
        with open_connection(view.source, timeout, autocommit=True) as conn:
            from cdcflow.engine.postgres.replication import set_replica_identity_full

            set_replica_identity_full(conn, [definition])
            published = conn.execute("SELECT 1 FROM pg_publication_tables WHERE pubname = %s AND schemaname = %s "
                                     "AND tablename = %s", (names.publication, definition.schema,
                                                            definition.name)).fetchone()
            if not published:
                conn.execute(sql.SQL("ALTER PUBLICATION {} ADD TABLE {}").format(
                    sql.Identifier(names.publication), ident(definition)))
        target = target_adapter(view.target, timeout)
        (created, needs_pk), = target.ensure_tables([definition])
        if needs_pk:
            target.add_primary_keys([definition])
        schema_sync.capture_baselines(ctx, pipeline_id, view.source, overwrite=True, only=[table])
        ensure_topics(ctx.settings.kafka_bootstrap_servers, [names.topic(definition.schema, definition.name)])
        topics = _reconfigure(ctx, pipeline_id, list(view.tables), "RUNNING")

        def listed(p: Pipeline) -> None:
            p.kafka_topics = topics

        ctx.update(pipeline_id, listed)
        request_resync(ctx, pipeline_id, [table], reason="table added")
    except Exception as exc:  # noqa: BLE001  (shown on the table; the other tables are unaffected)
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        logger.warning("adding %s failed: %s", table, message, extra={"pipeline_id": str(pipeline_id)})

        def failed(p: Pipeline) -> None:
            for t in p.tables:
                if t.qualified_name == table:
                    t.state, t.error = "FAILED", f"Adding the table failed: {message}"[:2000]

        ctx.update(pipeline_id, failed)


def remove_table_job(ctx: EngineContext, pipeline_id: uuid.UUID, table: str, status: PipelineStatus) -> None:
    names = ResourceNames(pipeline_id)
    view = schema_sync.load_view(ctx, pipeline_id)
    remaining = [t for t in view.tables if t != table]
    topics = _reconfigure(ctx, pipeline_id, remaining, "PAUSED" if status == PipelineStatus.PAUSED else "RUNNING")
    schema, name = table.split(".", 1)
    with open_connection(view.source, ctx.settings.connection_test_timeout_seconds, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_publication_tables WHERE pubname = %s AND schemaname = %s AND "
                        "tablename = %s", (names.publication, schema, name)).fetchone():
            conn.execute(sql.SQL("ALTER PUBLICATION {} DROP TABLE {}").format(
                sql.Identifier(names.publication), sql.Identifier(schema, name)))

    def removed(p: Pipeline) -> None:
        p.tables = [t for t in p.tables if t.qualified_name != table]
        p.kafka_topics = topics
        p.updated_at = func.now()

    ctx.update(pipeline_id, removed)
