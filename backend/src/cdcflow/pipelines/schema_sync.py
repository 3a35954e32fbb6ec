"""Schema evolution of one pipeline: read the source and target catalogs, plan each table with the pipeline's policy
(engine/schema_evolution.py), apply the target DDL, pause when a change needs a person, record SCHEMA_CHANGE events.

Why this is in step with the stream: the JDBC sink runs with schema.evolution=none and re-reads the target table
whenever a record's fields change, so the first record with a column the target lacks stops the sink task before it
writes anything of that record (offsets uncommitted: the batch is redelivered in order after the restart, and upserts
make the redelivered prefix harmless). cdcflow adds the column (usually before the sink gets there: the catalog is
polled every couple of seconds), then restarts the failed task. Nothing is lost and nothing is applied out of order.
"""

import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import psycopg
from sqlalchemy import select

from cdcflow.connections.service import endpoint_for
from cdcflow.core.db import session_scope
from cdcflow.engine.endpoints import DatabaseEndpoint
from cdcflow.engine.postgres.catalog import current_lsn, read_relations
from cdcflow.engine.postgres.inspect import open_connection
from cdcflow.engine.schema_evolution import BLOCK, PAUSE, PROPAGATE, Change, TablePlan, plan_table
from cdcflow.models import Connection, Pipeline, PipelineRun, PipelineTable

logger = logging.getLogger(__name__)
DDL_LOCK_TIMEOUT = "5s"   # the sink's transactions are short; never queue behind a long one for ever
_locks: dict[uuid.UUID, threading.Lock] = {}
_locks_guard = threading.Lock()


def pipeline_lock(pipeline_id: uuid.UUID) -> threading.Lock:
    """One schema sync per pipeline at a time in this process (the watcher, resume and restart all sync)."""
    with _locks_guard:
        return _locks.setdefault(pipeline_id, threading.Lock())


@dataclass
class PipelineView:
    id: uuid.UUID
    name: str
    status: str
    policy: str
    drop_removed: bool
    tables: dict[str, dict[str, Any]]       # qualified name -> schema_state
    source: DatabaseEndpoint
    target: DatabaseEndpoint


@dataclass
class SyncResult:
    plans: list[TablePlan] = field(default_factory=list)
    applied: list[str] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    ignored_changed: bool = False
    resync: list[str] = field(default_factory=list)

    @property
    def blocked(self) -> list[tuple[str, Change]]:
        return [(p.table, c) for p in self.plans for c in p.blocked]

    @property
    def changed(self) -> bool:
        return any(p.changes for p in self.plans)

    def block_message(self) -> str:
        lines = [f"{table}: {c.message}" + (f" -- {'; '.join(c.ddl)}" if c.ddl else "") for table, c in self.blocked]
        return "Schema change needs review. " + " | ".join(lines)


def load_view(ctx, pipeline_id: uuid.UUID) -> PipelineView | None:
    with session_scope(ctx.session_factory) as session:
        p = session.get(Pipeline, pipeline_id)
        if p is None or p.deleted_at is not None:
            return None
        source = session.get(Connection, p.source_connection_id)
        target = session.get(Connection, p.target_connection_id)
        return PipelineView(p.id, p.name, p.status.value, p.schema_change_policy.value, p.drop_removed_columns,
                            {t.qualified_name: dict(t.schema_state or {}) for t in p.tables},
                            endpoint_for(ctx.box, source, ctx.policy), endpoint_for(ctx.box, target, ctx.policy))
    return None


def _settings(ctx, pipeline_id: uuid.UUID) -> tuple[str, bool]:
    with ctx.session_factory() as session:
        p = session.get(Pipeline, pipeline_id)
        return p.schema_change_policy.value, p.drop_removed_columns


def _connect(endpoint: DatabaseEndpoint, timeout: int) -> psycopg.Connection:
    return open_connection(endpoint, timeout, autocommit=True)


def read_source(view: PipelineView, timeout: int) -> tuple[dict[str, dict], str]:
    oids = [s["source"]["oid"] for s in view.tables.values() if s.get("source")]
    with _connect(view.source, timeout) as conn:
        return read_relations(conn, list(view.tables), oids), current_lsn(conn)


def _renamed_to(baseline: dict | None, relations: dict[str, dict], name: str) -> str | None:
    if not baseline:
        return None
    return next((q for q, r in relations.items() if r["oid"] == baseline["oid"] and q != name), None)


def plan_pipeline(view: PipelineView, sources: dict[str, dict], targets: dict[str, dict], policy: str,
                  only: set[str] | None = None) -> list[TablePlan]:
    plans = []
    for name, state in view.tables.items():
        if only is not None and name not in only:
            continue
        plans.append(plan_table(name, state.get("source"), sources.get(name), targets.get(name), policy,
                                view.drop_removed, state.get("ignored", []),
                                _renamed_to(state.get("source"), sources, name)))
    return plans


def drifted(view: PipelineView, sources: dict[str, dict]) -> set[str]:
    """Tables whose source definition differs from the one last seen (or was never seen). A table still being added
    to a running pipeline is left out until its job has created it on the target and recorded its baseline: until
    then a missing target table is expected, not a change to pause for."""
    return {name for name, state in view.tables.items()
            if state.get("source") != sources.get(name) and not (state.get("adding") and not state.get("source"))}


def _run_ddl(view: PipelineView, statements: list[str], timeout: int) -> None:
    with _connect(view.target, timeout) as conn:
        conn.execute(f"SET lock_timeout = '{DDL_LOCK_TIMEOUT}'")
        for statement in statements:
            conn.execute(statement)


def sync(ctx, pipeline_id: uuid.UUID, policy: str | None = None, force: bool = False,
         on_blocked: Callable[[PipelineView, SyncResult], None] | None = None) -> SyncResult | None:
    """Detect and handle schema changes of one pipeline. `policy` overrides the pipeline's (resume applies what was
    held for review as propagate would); `force` plans every table, not only those whose source changed."""
    with pipeline_lock(pipeline_id):
        view = load_view(ctx, pipeline_id)
        if view is None:
            return None
        if view.source.database_type != "postgresql" or view.target.database_type != "postgresql":
            return None  # schema evolution reads PostgreSQL's catalog on both sides; MariaDB is not supported yet
        timeout = ctx.settings.connection_test_timeout_seconds
        sources, lsn = read_source(view, timeout)
        # Read after the catalog: a policy committed before a DDL the catalog shows is the one that applies.
        view.policy, view.drop_removed = _settings(ctx, pipeline_id)
        changed = set(view.tables) if force else drifted(view, sources)
        if not changed:
            return SyncResult()
        with _connect(view.target, timeout) as conn:
            targets = read_relations(conn, sorted(changed))
        policy = policy or view.policy
        result = SyncResult(plans=plan_pipeline(view, sources, targets, policy, only=changed))
        for plan in result.plans:
            statements = [s for c in plan.to_apply for s in c.ddl]
            if statements:
                _run_ddl(view, statements, timeout)
                result.applied += statements
            if any(c.needs_resync for c in plan.to_apply):
                result.resync.append(plan.table)
        _persist(ctx, view, sources, lsn, result)
        if result.blocked and on_blocked is not None:
            on_blocked(view, result)
        return result


def _persist(ctx, view: PipelineView, sources: dict[str, dict], lsn: str, result: SyncResult) -> None:
    """New baselines for tables whose changes are all handled; pending changes kept for review; one SCHEMA_CHANGE
    row per table whose changes are new (a change held for review is recorded once, not every pass)."""
    now = datetime.now(UTC)
    with session_scope(ctx.session_factory) as session:
        rows = {t.qualified_name: t for t in session.scalars(
            select(PipelineTable).where(PipelineTable.pipeline_id == view.id).with_for_update())}
        for plan in result.plans:
            row = rows.get(plan.table)
            if row is None:
                continue
            state = dict(row.schema_state or {})
            before = state.get("source")
            if before != view.tables.get(plan.table, {}).get("source") and before == sources.get(plan.table):
                continue  # another cdcflow process handled and recorded this change since we read the state
            pending = [c.public() for c in plan.blocked]
            if plan.ignored != state.get("ignored", []):
                result.ignored_changed = True
            state["ignored"] = plan.ignored
            drops = [d for d in state.get("drops", []) if sources.get(plan.table)]
            drops += [{"column": c.column, "after_lsn": lsn} for c in plan.changes
                      if c.deferred_drop and c.outcome != BLOCK and c.column not in {d["column"] for d in drops}]
            state["drops"] = drops
            repeat = pending and pending == state.get("pending")
            state["pending"] = pending
            if not plan.blocked and plan.table in sources:
                state["source"] = sources[plan.table]
            row.schema_state = state
            if not plan.changes or repeat:
                continue
            outcome = "PAUSED" if plan.blocked else ("APPLIED" if plan.to_apply else "NO_TARGET_CHANGE")
            after = sources.get(plan.table)
            run = PipelineRun(
                pipeline_id=view.id, run_type="SCHEMA_CHANGE", status=outcome, table_name=plan.table,
                started_at=now, completed_at=now,
                run_metadata={"table": plan.table, "outcome": outcome, "source_lsn": lsn,
                              "changes": [c.public() for c in plan.changes],
                              "applied": [s for c in plan.to_apply for s in c.ddl],
                              "before": _columns(before), "after": _columns(after)})
            session.add(run)
            session.flush()
            result.events.append(schema_event_public(run))


def _columns(relation: dict | None) -> list[dict[str, Any]] | None:
    if relation is None:
        return None
    return [{"name": c["name"], "type": c["type"], "nullable": not c["not_null"], "default": c["default"]}
            for c in relation["columns"]]


def schema_event_public(run: PipelineRun) -> dict[str, Any]:
    meta = run.run_metadata or {}
    return {"id": run.id, "pipeline_id": str(run.pipeline_id), "table_name": run.table_name, "outcome": run.status,
            "created_at": run.started_at.isoformat() if run.started_at else None,
            "changes": meta.get("changes", []), "applied": meta.get("applied", []),
            "before": meta.get("before"), "after": meta.get("after"), "source_lsn": meta.get("source_lsn")}


def capture_baselines(ctx, pipeline_id: uuid.UUID, source: DatabaseEndpoint, overwrite: bool,
                      only: list[str] | None = None) -> None:
    """At start: remember each table's source definition (kept across restarts, so a DDL made while the pipeline
    was stopped is still seen as a change; replaced after a fresh full load, which copied the current one)."""
    with session_scope(ctx.session_factory) as session:
        rows = list(session.scalars(select(PipelineTable).where(PipelineTable.pipeline_id == pipeline_id)))
        names = [r.qualified_name for r in rows if (only is None or r.qualified_name in only) and
                 (overwrite or not (r.schema_state or {}).get("source"))]
    if not names:
        return
    with _connect(source, ctx.settings.connection_test_timeout_seconds) as conn:
        relations = read_relations(conn, names)
    with session_scope(ctx.session_factory) as session:
        for row in session.scalars(select(PipelineTable).where(PipelineTable.pipeline_id == pipeline_id)
                                   .with_for_update()):
            if row.qualified_name in names and row.qualified_name in relations:
                row.schema_state = {**(row.schema_state or {}), "source": relations[row.qualified_name],
                                    "pending": []}


def ignored_fields(ctx, pipeline_id: uuid.UUID) -> list[str]:
    """The sink's field.exclude.list for a pipeline, from what its tables ignore."""
    with ctx.session_factory() as session:
        tables = {t.qualified_name: dict(t.schema_state or {}) for t in session.scalars(
            select(PipelineTable).where(PipelineTable.pipeline_id == pipeline_id))}
    from cdcflow.engine.names import ResourceNames

    return excluded_fields(ResourceNames(pipeline_id), tables)


def excluded_fields(names, tables: dict[str, dict[str, Any]]) -> list[str]:
    """field.exclude.list entries (topic:column) for the columns an ignore-policy pipeline does not copy."""
    return sorted(f"{names.topic(*q.split('.', 1))}:{c}" for q, s in tables.items() for c in s.get("ignored", []))


__all__ = ["PAUSE", "PROPAGATE", "SyncResult", "capture_baselines", "excluded_fields", "ignored_fields", "load_view",
           "sync"]
