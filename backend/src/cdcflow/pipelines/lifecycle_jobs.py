"""The start sequence and the stop job, run in the background by the API process.

Each step commits its own state change, so /status and /progress show the truth while the job runs. A failed start
undoes what this attempt created (connectors, slot, publication, secrets), newest first, and ends in ERROR.
"""

import logging
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import func, select, update

from cdcflow.connections.service import endpoint_for
from cdcflow.core.db import session_scope
from cdcflow.engine.catalog import TableDef
from cdcflow.engine.connect.client import ConnectClient, ConnectError
from cdcflow.engine.connect.configs import sink_config, source_config, source_offset, source_partition
from cdcflow.engine.context import EngineContext
from cdcflow.engine.fullload.progress import LoadProgress
from cdcflow.engine.fullload.rows import run_row_load
from cdcflow.engine.fullload.runner import LoadOptions, LoadTable, run_full_load
from cdcflow.engine.jobs import Cancelled
from cdcflow.engine.names import ResourceNames
from cdcflow.engine.ports import CapturePoint, SourcePort, TargetPort, source_adapter, target_adapter
from cdcflow.engine.postgres.ddl import same_types
from cdcflow.engine.postgres.inspect import EndpointUnreachable
from cdcflow.engine.topics import ensure_topics
from cdcflow.models import (
    CdcStatus,
    Connection,
    FullLoadStatus,
    Pipeline,
    PipelineMode,
    PipelineRun,
    PipelineTable,
)
from cdcflow.pipelines.schema_sync import capture_baselines, ignored_fields
from cdcflow.pipelines.states import fire

logger = logging.getLogger(__name__)


class StartFailed(Exception):
    """A start step failed; the message is meant for the user."""


class Undo:
    """Compensating actions for what this start created, run newest first on failure."""

    def __init__(self) -> None:
        self._steps: list[tuple[str, Callable[[], None]]] = []

    def push(self, label: str, action: Callable[[], None]) -> None:
        self._steps.append((label, action))

    def run(self) -> None:
        for label, action in reversed(self._steps):
            try:
                action()
            except Exception as exc:  # keep undoing the rest; report what could not be undone
                logger.error("could not undo %s: %s", label, exc)
        self._steps.clear()


def _is_cdc(mode: PipelineMode) -> bool:
    return mode in (PipelineMode.CDC_ONLY, PipelineMode.FULL_LOAD_AND_CDC)


def _load_plan(ctx: EngineContext, pipeline_id: uuid.UUID):
    with session_scope(ctx.session_factory) as session:
        p = session.get(Pipeline, pipeline_id)
        source = session.get(Connection, p.source_connection_id)
        target = session.get(Connection, p.target_connection_id)
        return (p.mode, p.full_load_status, [t.qualified_name for t in p.tables],
                endpoint_for(ctx.box, source, ctx.policy), endpoint_for(ctx.box, target, ctx.policy))


def start_pipeline_job(ctx: EngineContext, pipeline_id: uuid.UUID, cancel: threading.Event) -> None:
    names = ResourceNames(pipeline_id)
    undo = Undo()
    try:
        _start(ctx, pipeline_id, names, undo, cancel)
    except Exception as exc:
        message, cancelled = _describe(exc), isinstance(exc, Cancelled)
        logger.warning("pipeline start failed: %s", message, extra={"pipeline_id": str(pipeline_id)})
        if not ctx.holds_lease(pipeline_id):
            # Taken over: what this attempt created may already be the new owner's to use or release.
            logger.warning("start job lost its lease; leaving cleanup to the new owner")
            return
        undo.run()

        def fail(p: Pipeline) -> None:
            fire(p, "cancel_start" if cancelled else "start_failed")
            p.last_error = None if cancelled else message
            if p.full_load_status == FullLoadStatus.RUNNING:
                p.full_load_status = FullLoadStatus.NOT_STARTED if cancelled else FullLoadStatus.FAILED
            if p.cdc_status == CdcStatus.STARTING:
                p.cdc_status = CdcStatus.NOT_STARTED if cancelled else CdcStatus.ERROR

        ctx.finish(pipeline_id, fail)


def _describe(exc: Exception) -> str:
    if isinstance(exc, (StartFailed, EndpointUnreachable, ConnectError, Cancelled)):
        return str(exc)
    return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else 'unexpected error'}"[:1000]


def _start(ctx: EngineContext, pipeline_id: uuid.UUID, names: ResourceNames, undo: Undo,
           cancel: threading.Event) -> None:
    mode, full_load_status, table_names, source_ep, target_ep = _load_plan(ctx, pipeline_id)
    cdc = _is_cdc(mode)
    if not cdc:
        _prepare_and_load(ctx, pipeline_id, names, undo, cancel, mode, full_load_status, table_names, source_ep,
                          target_ep, None)
        return
    with ctx.connect() as connect:
        try:
            connect.plugins()
        except ConnectError as exc:
            raise StartFailed(str(exc)) from None
        _prepare_and_load(ctx, pipeline_id, names, undo, cancel, mode, full_load_status, table_names, source_ep,
                          target_ep, connect)


def _prepare_and_load(ctx: EngineContext, pipeline_id: uuid.UUID, names: ResourceNames, undo: Undo,
                      cancel: threading.Event, mode: PipelineMode, full_load_status: FullLoadStatus,
                      table_names: list[str], source_ep, target_ep, connect: ConnectClient | None) -> None:
    timeout = ctx.settings.connection_test_timeout_seconds
    cdc = connect is not None

    source, target = source_adapter(source_ep, timeout), target_adapter(target_ep, timeout)
    tables, missing = source.read_tables(table_names)
    if missing:
        raise StartFailed(f"Tables not found in the source: {', '.join(missing)}")
    no_pk = [t.qualified for t in tables if not t.primary_key]
    if no_pk:
        raise StartFailed(f"Tables without a primary key cannot be replicated: {', '.join(no_pk)}")
    targets = target.ensure_tables(tables)

    if cdc and source.prepare_capture(tables, names.publication):
        undo.push("publication", lambda: source.drop_publication(names.publication))
    signals = cdc and source.prepare_signals(names.publication, names.signal_schema, names.signal_table)

    capture_exists = cdc and (connect.exists(names.source_connector) if source.position_in_connector
                              else source.capture_exists(names))
    needs_full_load = mode != PipelineMode.CDC_ONLY and (
        full_load_status != FullLoadStatus.COMPLETED or (cdc and not capture_exists))

    if cdc and source.database_type == "postgresql":  # what schema evolution compares the source with from now on
        capture_baselines(ctx, pipeline_id, source_ep, overwrite=needs_full_load)
    start_at = None  # a position the source connector must start from (when the connector keeps it)
    if needs_full_load:
        # RUNNING before the capture exists: a process that dies from here on leaves a load that a takeover must
        # not mistake for a completed one (pipelines/watchdog.py).
        ctx.update(pipeline_id, lambda p: setattr(p, "full_load_status", FullLoadStatus.RUNNING))
        if capture_exists and not source.position_in_connector:
            source.drop_capture(names)  # a capture without a completed load is stale: the load needs a fresh one
        with source.open_capture(names, cdc) as point:
            if cdc and not source.position_in_connector:
                undo.push("capture", lambda: source.drop_capture(names))
            _full_load(ctx, pipeline_id, tables, targets, source_ep, target_ep, source, target, point, cancel)
        start_at = point
    else:
        target.add_primary_keys([src for src, (_, needs_pk) in zip(tables, targets) if needs_pk])
        if cdc and not capture_exists:
            start_at = source.create_capture(names)
            if not source.position_in_connector:
                undo.push("capture", lambda: source.drop_capture(names))

    if not cdc:
        def finished(p: Pipeline) -> None:
            fire(p, "loaded")
            p.last_error = None

        ctx.finish(pipeline_id, finished)
        return

    _check(cancel)
    ctx.update(pipeline_id, lambda p: setattr(p, "cdc_status", CdcStatus.STARTING))
    topics = [names.topic(t.schema, t.name) for t in tables]
    _start_connectors(ctx, connect, names, pipeline_id, source_ep, target_ep, [t.qualified for t in tables],
                      topics, undo, signals, start_at if source.position_in_connector else None, cancel)

    def running(p: Pipeline) -> None:
        fire(p, "started")
        p.cdc_status, p.last_error = CdcStatus.RUNNING, None
        p.debezium_connector_name, p.sink_connector_name = names.source_connector, names.sink_connector
        p.kafka_topics = topics

    # A stop pressed while the connectors started is honoured here too, under the row lock the stop also takes.
    ctx.finish(pipeline_id, running, cancel=cancel)


def _delete_connector(ctx: EngineContext, name: str) -> None:
    """An undo step: runs after the start's own Connect client was closed by the failure it undoes."""
    with ctx.connect() as connect:
        connect.delete(name)


def _check(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise Cancelled("start cancelled")


def _start_connectors(ctx: EngineContext, connect: ConnectClient, names: ResourceNames, pipeline_id: uuid.UUID,
                      source_ep, target_ep, tables: list[str], topics: list[str], undo: Undo,
                      signals: bool = False, start_at: CapturePoint | None = None,
                      cancel: threading.Event | None = None) -> None:
    """`start_at`: the position a source connector that keeps its own position (MariaDB) must stream from; it is
    written as the connector's offset while the connector is STOPPED, before its first task runs. A stop pressed
    meanwhile (`cancel`) is honoured before and after each connector's step: what was created is undone."""
    ensure_topics(ctx.settings.kafka_bootstrap_servers, topics)
    secrets = ctx.secrets()
    wait = ctx.settings.connector_start_timeout_seconds
    source_ref = secrets.write(pipeline_id, "source_password", source_ep.password)
    target_ref = secrets.write(pipeline_id, "target_password", target_ep.password)
    ignored = ignored_fields(ctx, pipeline_id)
    bootstrap = ctx.settings.kafka_bootstrap_servers
    configs = ((names.source_connector,
                source_config(names, source_ep, tables, source_ref, signals=signals, bootstrap=bootstrap)),
               (names.sink_connector, sink_config(names, target_ep, topics, target_ref, bootstrap=bootstrap,
                                                  exclude_fields=ignored, source_type=source_ep.database_type)))
    for name, config in configs:
        _check(cancel)
        existed = connect.exists(name)
        if name == names.source_connector and start_at is not None:
            if existed:
                connect.stop(name)
                connect.wait_for_state(name, "STOPPED", wait)
                connect.put_config(name, config)
            else:
                connect.create_stopped(name, config)
                undo.push(f"connector {name}", lambda n=name: _delete_connector(ctx, n))
            connect.alter_offsets(name, [{"partition": source_partition(names, source_ep),
                                          "offset": source_offset(source_ep, start_at.position)}])
        else:
            connect.put_config(name, config)
            if not existed:
                undo.push(f"connector {name}", lambda n=name: _delete_connector(ctx, n))
        _check(cancel)
        connect.resume(name)  # a connector kept from a stop (or created stopped) is STOPPED until resumed
        connect.wait_for_state(name, "RUNNING", wait)
    _check(cancel)


def _full_load(ctx: EngineContext, pipeline_id: uuid.UUID, tables: list[TableDef], targets, source_ep, target_ep,
               source: SourcePort, target: TargetPort, point: CapturePoint, cancel: threading.Event) -> None:
    started = datetime.now(UTC)
    target.truncate([t for t, _ in targets])
    estimates: dict[str, int] = {}

    def begin(p: Pipeline) -> None:
        p.full_load_status = FullLoadStatus.RUNNING
        for row in p.tables:
            row.state, row.rows_copied, row.bytes_copied = "PENDING", 0, 0
            row.started_at = row.completed_at = row.error = None
            estimates[row.qualified_name] = row.rows_estimated or 0

    ctx.update(pipeline_id, begin)
    reporter = _ProgressReporter(ctx, pipeline_id)
    binary: dict[str, bool] = {}
    if source.database_type == target.database_type == "postgresql":
        # COPY to COPY inside the exported snapshot, binary where the column types are identical.
        load_tables = [LoadTable(src, same_types(src, tgt), estimates.get(src.qualified, 0))
                       for src, (tgt, _) in zip(tables, targets)]
        options = LoadOptions(workers=ctx.settings.fullload_workers, split_rows=ctx.settings.fullload_split_rows,
                              timeout=ctx.settings.connection_test_timeout_seconds)
        progress = run_full_load(source_ep, target_ep, point.snapshot, load_tables, options, cancel, reporter)
        binary = {t.source.qualified: t.binary for t in load_tables}
    else:
        progress = run_row_load(source, target, point, tables, ctx.settings.fullload_workers, cancel, reporter,
                                estimates)
    target.add_primary_keys([src for src, (_, needs_pk) in zip(tables, targets) if needs_pk])
    reporter(progress, force=True)
    completed = datetime.now(UTC)
    figures = {t.qualified: {"rows": t.rows, "bytes": t.bytes, "tasks": t.tasks_total,
                             "seconds": round((t.completed_at or time.time()) - (t.started_at or time.time()), 3)}
               for t in progress.snapshot()}
    total_rows = sum(f["rows"] for f in figures.values())
    seconds = (completed - started).total_seconds()

    def done(p: Pipeline) -> None:
        p.full_load_status = FullLoadStatus.COMPLETED

    with session_scope(ctx.session_factory) as session:
        session.add(PipelineRun(pipeline_id=pipeline_id, run_type="FULL_LOAD", status="COMPLETED",
                                started_at=started, completed_at=completed,
                                run_metadata={"snapshot_lsn": point.label, "snapshot_position": point.position,
                                              "tables": figures, "rows": total_rows,
                                              "seconds": round(seconds, 3),
                                              "rows_per_second": round(total_rows / seconds) if seconds else None,
                                              "binary": binary}))
        session.get(Pipeline, pipeline_id, with_for_update=True).full_load_status = FullLoadStatus.COMPLETED


class _ProgressReporter:
    """Writes per-table progress to pipeline_tables at most once a second."""

    def __init__(self, ctx: EngineContext, pipeline_id: uuid.UUID) -> None:
        self.ctx, self.pipeline_id, self._last = ctx, pipeline_id, 0.0

    def __call__(self, progress: LoadProgress, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < 1.0:
            return
        self._last = now
        by_name = {t.qualified: t for t in progress.snapshot()}
        with session_scope(self.ctx.session_factory) as session:
            session.execute(update(Pipeline).where(Pipeline.id == self.pipeline_id)
                            .values(updated_at=func.now()))  # heartbeat for the reconciler
            rows = session.scalars(select(PipelineTable).where(PipelineTable.pipeline_id == self.pipeline_id))
            for row in rows:
                t = by_name.get(row.qualified_name)
                if t is None:
                    continue
                row.state, row.rows_copied, row.bytes_copied, row.error = t.state, t.rows, t.bytes, t.error
                row.rows_estimated = t.rows_estimated
                row.started_at = datetime.fromtimestamp(t.started_at, UTC) if t.started_at else None
                row.completed_at = datetime.fromtimestamp(t.completed_at, UTC) if t.completed_at else None


def stop_pipeline_job(ctx: EngineContext, pipeline_id: uuid.UUID, cancel: threading.Event) -> None:
    """Connect `stop` on both connectors (offsets and slot kept), then STOPPED."""
    names = ResourceNames(pipeline_id)
    error = None
    try:
        with ctx.connect() as connect:
            for name in (names.source_connector, names.sink_connector):
                if connect.exists(name):
                    connect.stop(name)
            for name in (names.source_connector, names.sink_connector):
                if connect.exists(name):
                    connect.wait_for_state(name, "STOPPED", ctx.settings.connector_start_timeout_seconds)
    except ConnectError as exc:
        error = str(exc)

    def stopped(p: Pipeline) -> None:
        if error:
            fire(p, "stop_failed")
            p.last_error = f"Stop failed: {error}"
        else:
            fire(p, "stopped")
            p.last_error = None
            if p.cdc_status in (CdcStatus.RUNNING, CdcStatus.PAUSED, CdcStatus.STARTING, CdcStatus.ERROR):
                p.cdc_status = CdcStatus.STOPPED

    ctx.finish(pipeline_id, stopped)
