"""What a pipeline can do beyond what its status allows: the actions and settings its databases do not support yet,
and, on a PostgreSQL source, whether resync and add-table can work now (both write Debezium's signal table).

The API sends these reasons beside `allowed_actions`, so the UI disables an action and says why instead of
offering something that fails after the click.
"""

import threading
import time
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from cdcflow.models import Connection, DatabaseType, Pipeline

# Until every feature exists for both databases: what a MariaDB source (or target) cannot do yet, and why.
MARIADB_SOURCE_GAPS = {
    "resync": "Resync is not available for MariaDB sources yet: it needs Debezium's signal table, which cdcflow "
              "creates on PostgreSQL sources only. Reset reloads every table instead.",
    "add_table": "Adding a table to a running pipeline is not available for MariaDB sources yet (its initial load "
                 "goes through resync). Stop the pipeline, edit its tables, and start it again.",
    "remove_table": "Removing a table from a running pipeline is not available for MariaDB sources yet. Stop the "
                    "pipeline, edit its tables, and start it again.",
}
SCHEMA_POLICY_GAP = ("Schema changes are followed between PostgreSQL databases only for now: with MariaDB, a changed "
                     "source table needs the target table changed by hand (the policy is not applied).")
SIGNAL_ACTIONS = ("resync", "add_table")
SIGNAL_CHECK_SECONDS = 15.0


def gaps(source_type: str, target_type: str) -> dict[str, str]:
    """{action or "schema_change_policy": reason} for what these databases do not support at all yet."""
    found = dict(MARIADB_SOURCE_GAPS) if source_type == DatabaseType.MARIADB.value else {}
    if DatabaseType.MARIADB.value in (source_type, target_type):
        found["schema_change_policy"] = SCHEMA_POLICY_GAP
    return found


def database_types(session: Session, pipelines: list[Pipeline]) -> dict[uuid.UUID, tuple[str, str]]:
    """{pipeline id: (source database type, target database type)}, in one query."""
    ids = {i for p in pipelines for i in (p.source_connection_id, p.target_connection_id)}
    types = dict(session.execute(select(Connection.id, Connection.database_type).where(Connection.id.in_(ids))).all())
    value = lambda i: types[i].value if i in types else DatabaseType.POSTGRESQL.value  # noqa: E731
    return {p.id: (value(p.source_connection_id), value(p.target_connection_id)) for p in pipelines}


def refuse_gap(session: Session, pipeline: Pipeline, action: str) -> None:
    """Unprocessable (422, with the reason) when the pipeline's databases do not support `action` yet."""
    from cdcflow.core.errors import Unprocessable

    reason = gaps(*database_types(session, [pipeline])[pipeline.id]).get(action)
    if reason:
        raise Unprocessable(reason, {"action": action})


class SignalChecks:
    """The last answer of `resync.signal_problem` per pipeline, for a few seconds: the status is polled every 2 s
    by every open pipeline page, and each check is a round trip to the source."""

    def __init__(self, ttl: float = SIGNAL_CHECK_SECONDS) -> None:
        self.ttl, self._lock, self._seen = ttl, threading.Lock(), {}

    def reason(self, ctx, pipeline_id: uuid.UUID) -> str | None:
        from cdcflow.pipelines.resync import signal_problem  # resync imports Kafka; only needed on a cache miss
        from cdcflow.pipelines.schema_sync import load_view

        now = time.monotonic()
        with self._lock:
            seen = self._seen.get(pipeline_id)
        if seen and now - seen[0] < self.ttl:
            return seen[1]
        view = load_view(ctx, pipeline_id)
        reason = signal_problem(ctx, view) if view is not None else None
        with self._lock:
            self._seen[pipeline_id] = (now, reason)
        return reason

    def forget(self, pipeline_id: uuid.UUID) -> None:
        with self._lock:
            self._seen.pop(pipeline_id, None)


SIGNAL_CHECKS = SignalChecks()


def unavailable_now(ctx, pipeline: Pipeline, types: tuple[str, str], allowed: list[str]) -> dict[str, str]:
    """The gaps of the pipeline's databases, and, when the status allows resync or add-table on a PostgreSQL
    source, why the signal table cannot be written (checked on the source, at most every few seconds)."""
    found = gaps(*types)
    if types[0] == DatabaseType.POSTGRESQL.value and ctx is not None and any(a in allowed for a in SIGNAL_ACTIONS):
        reason = SIGNAL_CHECKS.reason(ctx, pipeline.id)
        if reason:
            for action in SIGNAL_ACTIONS:
                found[action] = f"The source user cannot write Debezium's signal table, which this needs: {reason}"
    return found
