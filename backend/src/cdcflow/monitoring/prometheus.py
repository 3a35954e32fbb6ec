"""GET /metrics in the Prometheus text exposition format, and who may scrape it.

CDCFLOW_METRICS_TOKEN (Prometheus) sees every pipeline. A user's access token sees the series of the pipelines that
user may see (owner, grant, admin: access/policy.py), and the shared plane (broker, Connect, event logger) without
the topics of other pipelines.
"""

import hmac
import uuid

from fastapi import Request
from fastapi.security import HTTPAuthorizationCredentials
from sqlalchemy import text
from sqlalchemy.orm import Session

from cdcflow.access.policy import visible_pipeline_ids
from cdcflow.core.config import Settings
from cdcflow.core.deps import Permission, get_actor
from cdcflow.core.errors import Forbidden
from cdcflow.events.service import EventLoggerService
from cdcflow.monitoring.health import SEVERITY
from cdcflow.monitoring.monitor import HealthMonitor
from cdcflow.monitoring.offsets import OffsetsCollector


def authorize_scrape(request: Request, session: Session,
                     credentials: HTTPAuthorizationCredentials | None) -> list[uuid.UUID] | None:
    """Who scrapes, as the pipelines they may see: None (all) for CDCFLOW_METRICS_TOKEN or an admin, else the ids a
    user's access token (checked exactly as on /api/v1, by get_actor) may see. Raises Unauthorized (401) or
    Forbidden otherwise."""
    settings: Settings = request.app.state.settings
    expected = settings.metrics_token.get_secret_value() if settings.metrics_token else ""
    if credentials is not None and credentials.scheme.lower() == "bearer" and expected and \
            hmac.compare_digest(credentials.credentials.encode(), expected.encode()):
        return None
    actor = get_actor(request, session, credentials)
    if not actor.can(Permission.READ):
        raise Forbidden(f"Your role ({actor.role.value}) may not read metrics")
    return visible_pipeline_ids(session, actor)


def _label(value: object) -> str:
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


def _own_topic(topic: str, names: dict) -> bool:
    """Whether a topic (cdcflow.<pipeline id>.<schema>.<table>) belongs to one of `names`' pipelines."""
    parts = topic.split(".")
    try:
        return len(parts) > 1 and uuid.UUID(parts[1]) in names
    except ValueError:
        return False


def render(session: Session, collector: OffsetsCollector, event_logger: EventLoggerService,
           monitor: HealthMonitor, scope: list[uuid.UUID] | None = None) -> str:
    """`scope`: the pipelines the caller may see (None: all)."""
    lines: list[str] = []

    def metric(name: str, kind: str, help_text: str, samples: list[tuple[dict, float]]) -> None:
        lines.append(f"# HELP {name} {help_text}")
        lines.append(f"# TYPE {name} {kind}")
        for labels, value in samples:
            rendered = ",".join(f'{k}="{_label(v)}"' for k, v in labels.items())
            lines.append(f"{name}{{{rendered}}} {value}" if rendered else f"{name} {value}")

    pipelines = session.execute(text("SELECT id, name, status FROM pipelines WHERE deleted_at IS NULL")).all()
    if scope is not None:
        visible = set(scope)
        pipelines = [p for p in pipelines if p[0] in visible]
    names = {p[0]: p[1] for p in pipelines}
    metric("cdcflow_pipeline_up", "gauge", "1 when the pipeline is RUNNING",
           [({"pipeline": p[1], "status": p[2]}, 1 if p[2] == "RUNNING" else 0) for p in pipelines])
    totals = session.execute(text("""SELECT pipeline_id, event_type, sum(events) FROM pipeline_event_totals
                                     GROUP BY 1, 2""")).all()
    metric("cdcflow_events_total", "counter", "CDC events stored (not soft-deleted)",
           [({"pipeline": names.get(pid, pid), "event_type": et}, int(n)) for pid, et, n in totals if pid in names])
    rows = session.execute(text("""SELECT pipeline_id, sum(rows_copied) FROM pipeline_tables GROUP BY 1""")).all()
    metric("cdcflow_full_load_rows", "gauge", "Rows copied by the latest full load",
           [({"pipeline": names[pid]}, int(n)) for pid, n in rows if pid in names])
    lag_bytes, lag_seconds, produced, applied = [], [], [], []
    for pid, offsets in collector.snapshot.items():
        if pid not in names:
            continue
        labels = {"pipeline": names[pid]}
        produced.append((labels, offsets.produced))
        applied.append((labels, offsets.applied))
        if offsets.lag and "lag_bytes" in offsets.lag:
            lag_bytes.append((labels, offsets.lag["lag_bytes"] or 0))
            lag_seconds.append((labels, offsets.lag.get("lag_seconds", 0)))
    metric("cdcflow_replication_lag_bytes", "gauge", "Source WAL not yet confirmed by the slot", lag_bytes)
    metric("cdcflow_replication_lag_seconds", "gauge", "Age of the newest change while WAL is pending", lag_seconds)
    metric("cdcflow_events_produced", "gauge", "Change events in the pipeline's topics", produced)
    metric("cdcflow_events_applied", "gauge", "Change events committed by the sink", applied)
    status = event_logger.status()
    metric("cdcflow_event_logger_up", "gauge", "1 when the event logger runs", [({}, 1 if status["running"] else 0)])
    metric("cdcflow_event_logger_lag", "gauge", "Messages not yet stored, per partition",
           [({"topic": p["topic"], "partition": p["partition"]}, p.get("lag") or 0)
            for p in status["assigned_partitions"] if scope is None or _own_topic(p["topic"], names)])
    metric("cdcflow_event_logger_rejected_total", "counter", "Malformed messages skipped",
           [({}, status["rejected_total"])])
    metric("cdcflow_event_logger_consuming", "gauge", "1 when the event logger consumes (no current error)",
           [({}, 1 if status.get("state") == "consuming" else 0)])
    _health(metric, names, monitor)
    return "\n".join(lines) + "\n"


def _health(metric, names: dict, monitor: HealthMonitor) -> None:
    platform, seen = monitor.platform_report(), monitor.observations
    metric("cdcflow_platform_health", "gauge", "Shared data plane: 0 ok, 1 degraded, 2 error",
           [({}, SEVERITY[platform.health])])
    metric("cdcflow_component_up", "gauge", "1 when the component answered the health monitor's last probe",
           [({"component": c}, 1 if r.ok else 0) for c, r in (("kafka", seen.broker), ("connect", seen.connect))
            if r is not None])
    reports = [(names[pid], report) for pid, report in monitor.reports.items() if pid in names]
    metric("cdcflow_pipeline_health", "gauge", "Pipeline health: 0 ok, 1 degraded, 2 error",
           [({"pipeline": name}, SEVERITY[r.health]) for name, r in reports])
    metric("cdcflow_pipeline_problems", "gauge", "Problems the pipeline has now",
           [({"pipeline": name}, len(r.problems)) for name, r in reports])
    walled = [(name, r.wal) for name, r in reports if r.wal is not None and r.wal.slot_exists]
    metric("cdcflow_slot_retained_wal_bytes", "gauge", "WAL the source keeps for the pipeline's replication slot",
           [({"pipeline": name}, w.retained_bytes or 0) for name, w in walled])
    metric("cdcflow_slot_wal_warning_bytes", "gauge", "Retained WAL at which health turns degraded",
           [({"pipeline": name}, w.warning_bytes) for name, w in walled])
    metric("cdcflow_slot_wal_critical_bytes", "gauge", "Retained WAL at which health turns error",
           [({"pipeline": name}, w.critical_bytes) for name, w in walled])
    metric("cdcflow_slot_wal_status", "gauge", "1 for the slot's current wal_status (reserved, extended, "
           "unreserved, lost)", [({"pipeline": name, "wal_status": w.wal_status}, 1) for name, w in walled
                                 if w.wal_status])
    metric("cdcflow_slot_active", "gauge", "1 when a walsender reads the slot",
           [({"pipeline": name}, 1 if w.slot_active else 0) for name, w in walled])
    metric("cdcflow_slot_safe_wal_size_bytes", "gauge", "WAL the slot may still grow by before "
           "max_slot_wal_keep_size drops it (absent when unlimited)",
           [({"pipeline": name}, w.safe_wal_size) for name, w in walled if w.safe_wal_size is not None])
    metric("cdcflow_source_free_disk_bytes", "gauge", "Free disk where the source keeps its WAL (only when readable)",
           [({"pipeline": name}, w.free_disk_bytes) for name, w in walled if w.free_disk_bytes is not None])
