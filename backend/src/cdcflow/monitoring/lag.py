"""A pipeline's replication lag: the slot on the source plus the newest event stored."""

import time
import uuid
from typing import Any

from sqlalchemy import text

from cdcflow.connections.service import endpoint_for
from cdcflow.engine.names import ResourceNames
from cdcflow.engine.postgres.inspect import open_connection
from cdcflow.engine.postgres.lag import lsn_to_int, slot_lag
from cdcflow.models import Connection, Pipeline
from cdcflow.engine.context import EngineContext


def last_event(session, pipeline_id: uuid.UUID) -> dict[str, Any] | None:
    row = session.execute(text("""
        SELECT source_lsn, (run_metadata->'source'->>'ts_ms')::bigint, started_at FROM pipeline_runs
        WHERE id = (SELECT id FROM pipeline_runs WHERE pipeline_id = :pid AND deleted_at IS NULL AND run_type = 'CDC'
                    ORDER BY id DESC LIMIT 1)"""), {"pid": pipeline_id}).first()
    if row is None:
        return None
    return {"source_lsn": row[0], "source_ts_ms": row[1], "stored_at": row[2]}


def pipeline_lag(ctx: EngineContext, pipeline_id: uuid.UUID) -> dict[str, Any] | None:
    with ctx.session_factory() as session:
        pipeline = session.get(Pipeline, pipeline_id)
        if pipeline is None:
            return None
        endpoint = endpoint_for(ctx.box, session.get(Connection, pipeline.source_connection_id), ctx.policy)
        newest = last_event(session, pipeline_id)
    if endpoint.database_type != "postgresql":
        return {"slot_exists": False}  # slot lag is PostgreSQL's; a MariaDB source has no slot
    with open_connection(endpoint, ctx.settings.connection_test_timeout_seconds, autocommit=True) as conn:
        lag = slot_lag(conn, ResourceNames(pipeline_id).slot)
    if lag is None:
        return {"slot_exists": False}
    behind = lag["lag_bytes"] or 0
    # Seconds behind: how old the newest change we have is, while the slot still holds unconfirmed WAL.
    seconds = 0.0
    if behind > 0 and newest and newest["source_ts_ms"]:
        seconds = max(0.0, time.time() - newest["source_ts_ms"] / 1000)
    return {**lag, "slot_exists": True, "lag_seconds": round(seconds, 1),
            "last_event_lsn": newest["source_lsn"] if newest else None,
            "current_lsn_int": lsn_to_int(lag["current_lsn"]),
            "confirmed_flush_lsn_int": lsn_to_int(lag["confirmed_flush_lsn"])}
