"""Dashboard, metrics, LSN latency and time series, all served from counters and indexed reads.

What the seed counts with `COUNT(*) ... WHERE run_type='CDC' AND deleted_at IS NULL` is kept, per pipeline, table
and event type, in pipeline_event_totals by triggers (migration 0003); rates come from pipeline_event_minutes.

Every aggregate takes a `scope`: the ids of the pipelines the caller may see (access.policy), or None for all of
them (an admin). Counters are per pipeline, so a sum over the scope never counts a pipeline the caller cannot see.
"""

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from cdcflow.engine.names import ResourceNames


from cdcflow.monitoring.monitor import HealthMonitor
from cdcflow.monitoring.offsets import OffsetsCollector

Scope = list[uuid.UUID] | None


def scoped(scope: Scope, column: str = "pipeline_id") -> tuple[str, dict[str, Any]]:
    """A SQL condition (fixed text, never user input) and its parameters keeping the scope's pipelines only."""
    if scope is None:
        return "TRUE", {}
    return f"{column} = ANY(CAST(:scope AS uuid[]))", {"scope": [str(p) for p in scope]}


def dashboard(session: Session, collector: OffsetsCollector | None, pipeline_id: uuid.UUID | None,
              scope: Scope) -> dict[str, Any]:
    where, params = scoped(scope)
    by_type = {r[0]: r for r in session.execute(text(f"""
        SELECT event_type, sum(events)::bigint, sum(latency_sum_ms)::bigint, sum(latency_count)::bigint,
               max(last_event_at)
        FROM pipeline_event_totals WHERE {where} GROUP BY event_type"""), params).all()}
    count = {t: int(by_type[t][1]) if t in by_type else 0 for t in ("insert", "update", "delete", "truncate")}
    total = sum(int(r[1]) for r in by_type.values())
    latency_sum = sum(int(r[2]) for r in by_type.values())
    latency_n = sum(int(r[3]) for r in by_type.values())
    last = max((r[4] for r in by_type.values() if r[4] is not None), default=None)
    where, params = scoped(scope, "id")
    errors = session.execute(text(f"""
        SELECT count(*) FILTER (WHERE status = 'ERROR'), count(*) FROM pipelines
        WHERE deleted_at IS NULL AND {where}"""), params).one()
    produced = applied = 0
    if collector is not None:
        for pid, offsets in collector.snapshot.items():
            if scope is None or pid in scope:
                produced += offsets.produced
                applied += offsets.applied
    return {
        "pipeline_id": pipeline_id, "total_events": total, "insert_count": count["insert"],
        "update_count": count["update"], "delete_count": count["delete"], "truncate_count": count["truncate"],
        "average_latency_ms": round(latency_sum / latency_n, 1) if latency_n else None,
        # What the ratio applied / produced really measured: changes in Kafka the sink has not written yet, now.
        "events_pending": max(0, produced - applied), "events_produced": produced, "events_applied": applied,
        "error_count": int(errors[0]), "pipelines": int(errors[1]), "last_event_at": last,
        "as_of": datetime.now(UTC),
    }


def rates(session: Session, scope: Scope) -> dict[str, float]:
    where, params = scoped(scope)
    one, five, sixty = session.execute(text(f"""
        SELECT coalesce(sum(events) FILTER (WHERE minute >= date_trunc('minute', now()) - interval '1 minute'), 0),
               coalesce(sum(events) FILTER (WHERE minute >= date_trunc('minute', now()) - interval '5 minutes'), 0),
               coalesce(sum(events), 0)
        FROM pipeline_event_minutes
        WHERE minute >= date_trunc('minute', now()) - interval '60 minutes' AND {where}"""), params).one()
    # Windows include the current, partial minute: divide by the time they really span.
    elapsed = datetime.now(UTC).second
    return {"events_per_second_1m": round(float(one) / (60 + elapsed), 3),
            "events_per_second_5m": round(float(five) / (300 + elapsed), 3),
            "events_per_second_60m": round(float(sixty) / (3600 + elapsed), 3)}


def per_table(session: Session, scope: Scope) -> list[dict[str, Any]]:
    where, params = scoped(scope)
    rows = session.execute(text(f"""
        SELECT pipeline_id, table_name, event_type, events, last_event_at, latency_sum_ms, latency_count
        FROM pipeline_event_totals
        WHERE {where} AND events > 0
        ORDER BY pipeline_id, table_name, event_type"""), params).all()
    tables: dict[tuple, dict[str, Any]] = {}
    for pid, table, event_type, events, last_at, latency_sum, latency_count in rows:
        entry = tables.setdefault((pid, table), {"pipeline_id": pid, "table": table, "total": 0,
                                                 "last_event_at": None, "_lat": [0, 0]})
        entry[event_type] = int(events)
        entry["total"] += int(events)
        if last_at is not None and (entry["last_event_at"] is None or last_at > entry["last_event_at"]):
            entry["last_event_at"] = last_at
        entry["_lat"][0] += latency_sum or 0
        entry["_lat"][1] += latency_count or 0
    for entry in tables.values():
        total_ms, count = entry.pop("_lat")
        entry["average_latency_ms"] = round(total_ms / count, 1) if count else None
    return list(tables.values())


def latency_percentiles(session: Session, pipeline_id: uuid.UUID, window: int = 5000) -> dict[str, Any]:
    """p50/p95/p99 over the most recent `window` events of one pipeline (index-only walk of the newest rows)."""
    row = session.execute(text("""
        SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms),
               percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms),
               percentile_cont(0.99) WITHIN GROUP (ORDER BY latency_ms), count(*)
        FROM pipeline_runs
        WHERE latency_ms IS NOT NULL AND id IN (
            SELECT id FROM pipeline_runs WHERE run_type = 'CDC' AND deleted_at IS NULL AND pipeline_id = :pid
            ORDER BY id DESC LIMIT :window)"""), {"pid": pipeline_id, "window": window}).one()
    return {"p50_ms": row[0], "p95_ms": row[1], "p99_ms": row[2], "sample": int(row[3]), "window": window}


def timeseries(session: Session, scope: Scope, metric: str, bucket: str, hours: int) -> dict[str, Any]:
    source = "pipeline_event_minutes" if bucket == "minute" else "pipeline_event_rollups"
    time_col = "minute" if bucket == "minute" else "bucket"
    where, params = scoped(scope)
    params |= {"hours": hours, "bucket": bucket}
    if metric == "events":
        rows = session.execute(text(f"""
            SELECT date_trunc(:bucket, {time_col}) AS t, event_type, sum(events)::bigint
            FROM {source}
            WHERE {time_col} >= now() - make_interval(hours => :hours) AND {where}
            GROUP BY 1, 2 ORDER BY 1"""), params).all()
        points: dict[datetime, dict[str, Any]] = {}
        for t, event_type, events in rows:
            points.setdefault(t, {"t": t, "insert": 0, "update": 0, "delete": 0, "truncate": 0})[event_type] = \
                int(events)
        return {"metric": metric, "bucket": bucket, "points": list(points.values())}
    # latency: average per bucket from the counters (percentiles per bucket would need the raw rows)
    rows = session.execute(text(f"""
        SELECT date_trunc(:bucket, {time_col}), sum(latency_sum_ms)::float / nullif(sum(latency_count), 0)
        FROM {source}
        WHERE {time_col} >= now() - make_interval(hours => :hours) AND {where}
        GROUP BY 1 ORDER BY 1"""), params).all()
    return {"metric": metric, "bucket": bucket,
            "points": [{"t": t, "average_latency_ms": round(v, 1) if v is not None else None} for t, v in rows]}


def purge_events(session_factory, older_than_days: float, batch: int = 10_000) -> int:
    """Delete CDC events older than the cut-off in batches (triggers keep the counters right)."""
    deleted = 0
    while True:
        with session_factory() as session:
            n = session.execute(text("""
                DELETE FROM pipeline_runs WHERE id IN (
                    SELECT id FROM pipeline_runs WHERE run_type = 'CDC'
                      AND started_at < now() - make_interval(secs => :secs) LIMIT :batch)"""),
                                {"secs": older_than_days * 86400, "batch": batch}).rowcount
            session.execute(text("DELETE FROM pipeline_event_minutes WHERE minute < now() - interval '8 days'"))
            session.commit()
        deleted += n
        if n < batch:
            return deleted


def scoped_logger_status(status: dict[str, Any], scope: Scope) -> dict[str, Any]:
    """The event logger's status as a non-admin may see it: only their pipelines' partitions (topics are named
    cdcflow.<pipeline id>.<schema>.<table>) and their lag; the process-wide counters span every pipeline, so they
    are withheld (null) rather than leaking other pipelines' activity."""
    if scope is None:
        return status
    prefixes = tuple(f"{ResourceNames(p).topic_prefix}." for p in scope)
    partitions = [p for p in status["assigned_partitions"] if prefixes and str(p["topic"]).startswith(prefixes)]
    return {**status, "assigned_partitions": partitions, "total_lag": sum(p.get("lag") or 0 for p in partitions),
            "events_per_second_1m": None, "stored_total": None, "duplicates_total": None, "tombstones_total": None,
            "rejected_total": None, "topic_regex": None}


def platform_health(session: Session, monitor: HealthMonitor, scope: Scope = None) -> dict[str, Any]:
    """The shared data plane as the health monitor saw it last, and the judgement of each pipeline in scope."""
    platform = monitor.platform_report()
    seen = monitor.observations
    where, params = scoped(scope, "id")
    rows = session.execute(text(f"SELECT id, name, status FROM pipelines WHERE deleted_at IS NULL AND {where} "
                                "ORDER BY name"), params).all()
    pipelines = []
    for pid, name, status in rows:
        report = monitor.reports.get(pid)
        if report is not None:
            pipelines.append({"id": pid, "name": name, "status": status, "health": report.health,
                              "problems": report.problems,
                              "retained_wal_bytes": report.wal.retained_bytes if report.wal else None})
    reach = lambda r: None if r is None else {"ok": r.ok, "at": r.at, "error": r.error}  # noqa: E731
    return {"health": platform.health, "problems": platform.problems, "observed_at": platform.observed_at,
            "kafka": reach(seen.broker), "connect": reach(seen.connect),
            "event_logger_state": (seen.logger or {}).get("state"), "pipelines": pipelines}
