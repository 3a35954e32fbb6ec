"""Resync of one table (and the initial load of a table added to a running pipeline) while the others keep streaming.

Design: Debezium's incremental snapshot, asked for through the pipeline's signal table. Debezium reads the table in
primary-key chunks, each between two watermarks it writes to the signal table and reads back from the stream; a
stream event for a key inside the open window drops that key's snapshot row (DBLog). The snapshot rows and the stream
go through the same topic in that order, and the JDBC sink upserts both, so no change is lost or applied out of order,
and the source connector never stops. The target table is emptied first (rows deleted on the source while the target
was wrong must not survive); every row the source holds afterwards is written again by the snapshot or the stream.

Progress and completion come back as Debezium notifications on the pipeline's notification topic (ResyncTracker).
"""

import logging
import re
import uuid
from datetime import UTC, datetime

from confluent_kafka import Consumer, TopicPartition
from psycopg import sql
from sqlalchemy import select

from cdcflow.core.db import session_scope
from cdcflow.core.errors import Unprocessable
from cdcflow.engine.connect.client import ConnectClient
from cdcflow.engine import records
from cdcflow.engine.connect.configs import source_config
from cdcflow.engine.names import ResourceNames
from cdcflow.engine.postgres import signals
from cdcflow.engine.postgres.inspect import open_connection
from cdcflow.models import PipelineRun, PipelineTable
from cdcflow.pipelines.schema_sync import PipelineView, load_view

logger = logging.getLogger(__name__)
NOTIFICATION_TOPICS = r"^cdcflow\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.__notifications$"


def ensure_signals(ctx, view: PipelineView, connect: ConnectClient) -> None:
    """The signal table in the publication, and the source connector listening to it (pipelines started before
    signals existed get the setting now; Connect restarts the source task, which resumes from its offset)."""
    names = ResourceNames(view.id)
    problem = signal_problem(ctx, view)
    if problem:
        raise Unprocessable(f"Resync and adding a table need the signal table {names.signal_schema}."
                            f"{names.signal_table} on the source: {problem}") from None
    try:
        with open_connection(view.source, ctx.settings.connection_test_timeout_seconds, autocommit=True) as conn:
            signals.ensure_signal_table(conn, names.publication, names.signal_schema, names.signal_table)
    except Exception as exc:  # noqa: BLE001  (shown to the user as the reason a resync is impossible)
        raise Unprocessable(f"Resync needs the signal table {names.signal_schema}.{names.signal_table} on the "
                            f"source, which could not be created: {str(exc).splitlines()[0]}") from None
    config = connect.get_config(names.source_connector)
    if config.get("signal.data.collection") == f"{names.signal_schema}.{names.signal_table}":
        return
    ref = ctx.secrets().write(view.id, "source_password", view.source.password)
    connect.put_config(names.source_connector, source_config(names, view.source, list(view.tables), ref,
                                                             signals=True,
                                                             bootstrap=ctx.settings.kafka_bootstrap_servers))
    connect.wait_for_state(names.source_connector, "RUNNING", ctx.settings.connector_start_timeout_seconds)


def signal_problem(ctx, view: PipelineView) -> str | None:
    """Why this pipeline's source user cannot create or write its signal table now (None: it can; a source that
    cannot be reached says so)."""
    names = ResourceNames(view.id)
    try:
        with open_connection(view.source, ctx.settings.connection_test_timeout_seconds, autocommit=True) as conn:
            return signals.signal_table_problem(conn, names.signal_schema, names.signal_table)
    except Exception as exc:  # noqa: BLE001  (an unreachable source is a reason too)
        return f"the source could not be checked: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"


def request_resync(ctx, pipeline_id: uuid.UUID, tables: list[str], reason: str, truncate: bool = True) -> str:
    """Mark the tables RESYNCING (committed first, so no notification can outrun it), empty their target tables,
    then signal the incremental snapshot. Returns the signal id."""
    view = load_view(ctx, pipeline_id)
    if view is None:
        raise Unprocessable("Pipeline not found")
    names = ResourceNames(pipeline_id)
    with ConnectClient.from_settings(ctx.settings, timeout=15) as connect:
        ensure_signals(ctx, view, connect)
    signal_id = signals.new_signal_id()
    now = datetime.now(UTC)
    with session_scope(ctx.session_factory) as session:
        for row in session.scalars(select(PipelineTable).where(PipelineTable.pipeline_id == pipeline_id)
                                   .with_for_update()):
            if row.qualified_name in tables:
                row.state, row.rows_copied, row.bytes_copied, row.error = "RESYNCING", 0, 0, None
                row.started_at, row.completed_at = now, None
                row.schema_state = {**(row.schema_state or {}), "resync": {
                    "id": signal_id, "state": "REQUESTED", "reason": reason, "requested_at": now.isoformat()}}
    timeout = ctx.settings.connection_test_timeout_seconds
    if truncate:
        with open_connection(view.target, timeout, autocommit=True) as conn:
            conn.execute("SET lock_timeout = '10s'")
            conn.execute(sql.SQL("TRUNCATE {}").format(sql.SQL(", ").join(
                sql.Identifier(*t.split(".", 1)) for t in tables)))
    with open_connection(view.source, timeout, autocommit=True) as conn:
        signals.request_incremental_snapshot(conn, names.signal_schema, names.signal_table,
                                             [re.escape(t) for t in tables], signal_id)
    logger.info("resync of %s requested (%s)", ", ".join(tables), reason, extra={"pipeline_id": str(pipeline_id)})
    return signal_id


class ResyncTracker:
    """Follows Debezium notifications (one consumer for every pipeline's notification topic) into pipeline_tables:
    STARTED -> RUNNING, IN_PROGRESS -> last key read, TABLE_SCAN_COMPLETED -> COMPLETED with the rows scanned."""

    def __init__(self, ctx, group: str = "cdcflow-resync-tracker") -> None:
        self.ctx, self.group = ctx, group
        self._consumer: Consumer | None = None

    def _get(self) -> Consumer:
        if self._consumer is None:
            self._consumer = Consumer({"bootstrap.servers": self.ctx.settings.kafka_bootstrap_servers,
                                       "group.id": self.group, "enable.auto.commit": False,
                                       "auto.offset.reset": "earliest", "topic.metadata.refresh.interval.ms": 3000,
                                       "session.timeout.ms": 10000})
            self._consumer.subscribe([NOTIFICATION_TOPICS])
        return self._consumer

    def close(self) -> None:
        if self._consumer is not None:
            self._consumer.close()
            self._consumer = None

    def end_offset(self, topic: str) -> int:
        _, high = self._get().get_watermark_offsets(TopicPartition(topic, 0), timeout=5, cached=False)
        return high

    def poll(self) -> None:
        consumer = self._get()
        messages = consumer.consume(200, 0.2)
        positions: dict[tuple[str, int], int] = {}
        for msg in messages:
            if msg.error() is not None:
                continue
            positions[(msg.topic(), msg.partition())] = msg.offset() + 1
            if msg.value() is None:
                continue
            try:
                self.handle(msg.topic().split(".")[1], records.payload(msg.value()))
            except Exception as exc:  # noqa: BLE001  (a malformed notification must not block the others)
                logger.warning("notification %s@%d not understood: %s", msg.topic(), msg.offset(), exc)
        if positions:
            consumer.commit(offsets=[TopicPartition(t, p, o) for (t, p), o in positions.items()], asynchronous=False)

    def handle(self, pipeline_id: str, note: dict) -> None:
        if note.get("aggregate_type") != "Incremental Snapshot":
            return
        kind, data, signal_id = note.get("type"), note.get("additional_data") or {}, note.get("id")
        now = datetime.now(UTC)
        with session_scope(self.ctx.session_factory) as session:
            rows = [r for r in session.scalars(select(PipelineTable).where(
                PipelineTable.pipeline_id == uuid.UUID(pipeline_id)).with_for_update())
                if (r.schema_state or {}).get("resync", {}).get("id") == signal_id]
            for row in rows:
                resync = dict(row.schema_state["resync"])
                if resync.get("state") in ("COMPLETED", "FAILED"):
                    continue
                if kind == "STARTED":
                    resync["state"] = "RUNNING"
                elif kind == "IN_PROGRESS" and data.get("current_collection_in_progress") == row.qualified_name:
                    resync.update(state="RUNNING", last_key=data.get("last_processed_key"),
                                  max_key=data.get("maximum_key"))
                elif kind == "TABLE_SCAN_COMPLETED" and data.get("scanned_collection") == row.qualified_name:
                    ok = data.get("status") in ("SUCCEEDED", "EMPTY")
                    rows_scanned = int(data.get("total_rows_scanned") or 0)
                    resync.update(state="COMPLETED" if ok else "FAILED", rows=rows_scanned,
                                  completed_at=now.isoformat(), status=data.get("status"))
                    row.state, row.rows_copied, row.completed_at = ("COMPLETED" if ok else "FAILED"), rows_scanned, now
                    session.add(PipelineRun(
                        pipeline_id=row.pipeline_id, run_type="RESYNC", status="COMPLETED" if ok else "FAILED",
                        table_name=row.qualified_name, started_at=row.started_at or now, completed_at=now,
                        run_metadata={"signal_id": signal_id, "rows": rows_scanned, "reason": resync.get("reason"),
                                      "status": data.get("status")}))
                elif kind in ("ABORTED", "COMPLETED") and resync.get("state") != "COMPLETED":
                    resync.update(state="FAILED" if kind == "ABORTED" else "COMPLETED", completed_at=now.isoformat())
                    row.state = "FAILED" if kind == "ABORTED" else "COMPLETED"
                row.schema_state = {**row.schema_state, "resync": resync}
