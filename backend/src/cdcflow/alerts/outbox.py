"""Firing and resolving an alert, and queueing its notifications in the same transaction (the outbox).

De-duplication lives in the database: at most one open alert_events row per (rule, subject) (a partial unique
index), so however many API processes evaluate, a condition fires one notification per channel until it resolves,
and the resolve UPDATE hands the row to exactly one of them.
"""

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from cdcflow.alerts.rules import PipelineObservation, Verdict
from cdcflow.models import AlertDelivery, AlertEvent, AlertRule

logger = logging.getLogger(__name__)


def link_for(ui_url: str, pipeline_id) -> str:
    base = ui_url.rstrip("/")
    return f"{base}/pipelines/{pipeline_id}" if pipeline_id else f"{base}/alerts"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def event_payload(notification: str, event: AlertEvent, ui_url: str) -> dict[str, Any]:
    return {
        "type": f"alert.{notification}",
        "alert": {
            "id": event.id, "state": event.state, "message": event.message, "value": event.value,
            "threshold": event.threshold, "fired_at": _iso(event.fired_at), "resolved_at": _iso(event.resolved_at),
            "resolution": event.resolution,
            "rule": {"id": str(event.rule_id) if event.rule_id else None, "name": event.rule_name,
                     "kind": event.rule_kind},
            "pipeline": {"id": str(event.pipeline_id), "name": event.pipeline_name} if event.pipeline_id else None,
            "link": link_for(ui_url, event.pipeline_id),
        },
    }


def queue(session: Session, rule: AlertRule, event: AlertEvent, notification: str, ui_url: str) -> int:
    payload = event_payload(notification, event, ui_url)
    channels = [c for c in rule.channels if c.enabled]
    for channel in channels:
        session.add(AlertDelivery(event_id=event.id, channel_id=channel.id, channel_name=channel.name,
                                  notification=notification, payload=payload))
    return len(channels)


def fire(session: Session, rule: AlertRule, subject: str, obs: PipelineObservation | None, verdict: Verdict,
         ui_url: str) -> AlertEvent | None:
    """None when the alert is open already (fired by this or another process)."""
    event = session.scalar(
        insert(AlertEvent).values(
            rule_id=rule.id, rule_name=rule.name, rule_kind=rule.kind, subject=subject,
            pipeline_id=obs.pipeline_id if obs else None, pipeline_name=obs.name if obs else None, state="firing",
            message=verdict.message, value=verdict.value, threshold=rule.threshold)
        .on_conflict_do_nothing(index_elements=["rule_id", "subject"], index_where=text("resolved_at IS NULL"))
        .returning(AlertEvent))
    if event is None:
        return None
    sent = queue(session, rule, event, "firing", ui_url)
    logger.warning("alert firing: %s (%s): %s; %d channel(s)", rule.name, subject, verdict.message, sent)
    return event


def resolve(session: Session, rule: AlertRule, subject: str | None, resolution: str, ui_url: str) -> list[AlertEvent]:
    """Resolve the open alert(s) of a rule (one subject, or all of them when subject is None)."""
    query = update(AlertEvent).where(AlertEvent.rule_id == rule.id, AlertEvent.resolved_at.is_(None))
    if subject is not None:
        query = query.where(AlertEvent.subject == subject)
    events = list(session.scalars(query.values(state="resolved", resolved_at=text("now()"), resolution=resolution)
                                  .returning(AlertEvent),
                                  execution_options={"synchronize_session": False, "populate_existing": True}))
    for event in events:
        queue(session, rule, event, "resolved", ui_url)
        logger.warning("alert resolved: %s (%s): %s", rule.name, event.subject, resolution)
    return events
