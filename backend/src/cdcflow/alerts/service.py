"""Alert rules and channels (CRUD), the alert history, and the "send test notification" of a channel."""

import uuid
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from cdcflow.alerts.channels import send, url_hint
from cdcflow.alerts.evaluator import resolve_all
from cdcflow.alerts.outbox import link_for
from cdcflow.alerts.schemas import THRESHOLD_UNITS, ChannelCreate, ChannelUpdate, RuleCreate, RuleUpdate, \
    check_rule_shape
from cdcflow.audit.service import record
from cdcflow.core.config import Settings
from cdcflow.core.crypto import SecretBox, SecretDecryptionError
from cdcflow.core.deps import Actor
from cdcflow.core.errors import Conflict, NotFound, SecretUnavailable, Unprocessable
from cdcflow.engine.outbound import OutboundPolicy
from cdcflow.models import AlertChannel, AlertDelivery, AlertEvent, AlertRule, Pipeline

# ------------------------------------------------------------------------------------------------- channels


def channel_public(c: AlertChannel) -> dict[str, Any]:
    return {"id": c.id, "name": c.name, "kind": c.kind, "url_hint": c.url_hint, "owner_id": c.owner_id,
            "has_secret": c.secret_encrypted is not None, "enabled": c.enabled, "created_at": c.created_at,
            "updated_at": c.updated_at}


def list_channels(session: Session, where: ColumnElement[bool] | None = None) -> list[AlertChannel]:
    query = select(AlertChannel).order_by(AlertChannel.name)
    return list(session.scalars(query if where is None else query.where(where)))


def get_channel(session: Session, channel_id: uuid.UUID, for_update: bool = False) -> AlertChannel:
    query = select(AlertChannel).where(AlertChannel.id == channel_id)
    channel = session.scalar(query.with_for_update() if for_update else query)
    if channel is None:
        raise NotFound("Alert channel not found")
    return channel


def _unique(session: Session, model, name: str, exclude: uuid.UUID | None = None) -> None:
    query = select(model.id).where(func.lower(model.name) == name.lower())
    if exclude is not None:
        query = query.where(model.id != exclude)
    if session.scalar(query):
        raise Conflict(f"An alert {'rule' if model is AlertRule else 'channel'} named {name!r} already exists")


def create_channel(session: Session, box: SecretBox, actor: Actor, body: ChannelCreate) -> AlertChannel:
    _unique(session, AlertChannel, body.name)
    channel = AlertChannel(name=body.name, kind=body.kind, url_encrypted=box.encrypt(body.url),
                           url_hint=url_hint(body.url), enabled=body.enabled, created_by=actor.username,
                           owner_id=actor.user_id,
                           secret_encrypted=box.encrypt(body.secret) if body.secret else None)
    session.add(channel)
    session.flush()
    record(session, actor, "alert_channel.create", f"alert_channel:{channel.id}",
           {"name": channel.name, "kind": channel.kind, "url": channel.url_hint})
    return channel


def update_channel(session: Session, box: SecretBox, actor: Actor, channel_id: uuid.UUID,
                   body: ChannelUpdate) -> AlertChannel:
    channel = get_channel(session, channel_id, for_update=True)
    if body.name is not None:
        _unique(session, AlertChannel, body.name, exclude=channel.id)
        channel.name = body.name
    if body.url is not None:
        channel.url_encrypted, channel.url_hint = box.encrypt(body.url), url_hint(body.url)
    if body.secret is not None:
        if channel.kind != "webhook":
            raise Unprocessable("Slack incoming webhooks are not signed; leave secret empty")
        channel.secret_encrypted = box.encrypt(body.secret)
    if body.enabled is not None:
        channel.enabled = body.enabled
    changed = sorted(k for k in body.model_fields_set if k not in ("url", "secret")) + \
        [f"{k} (changed)" for k in ("url", "secret") if k in body.model_fields_set]
    record(session, actor, "alert_channel.update", f"alert_channel:{channel.id}", {"fields": changed})
    return channel


def delete_channel(session: Session, actor: Actor, channel_id: uuid.UUID) -> None:
    channel = get_channel(session, channel_id, for_update=True)
    record(session, actor, "alert_channel.delete", f"alert_channel:{channel.id}", {"name": channel.name})
    session.delete(channel)


def test_channel(session: Session, box: SecretBox, settings: Settings, outbound: OutboundPolicy, actor: Actor,
                 channel_id: uuid.UUID) -> dict[str, Any]:
    """One attempt, now, so the operator sees the outcome; recorded like any delivery. No lock is held while it
    is sent."""
    channel = get_channel(session, channel_id)
    try:
        url = box.decrypt(channel.url_encrypted)
        secret = box.decrypt(channel.secret_encrypted) if channel.secret_encrypted else None
    except SecretDecryptionError:
        raise SecretUnavailable(f"The URL or secret of channel {channel.name!r} cannot be decrypted: add the key it "
                                "was stored with to CDCFLOW_SECRET_KEYS_PREVIOUS") from None
    payload = {"type": "alert.test", "channel": channel.name, "sent_by": actor.username,
               "message": "Test notification from cdcflow: this channel is reachable.",
               "link": link_for(settings.ui_url, None)}
    delivery = AlertDelivery(channel_id=channel.id, channel_name=channel.name, notification="test", payload=payload,
                             status="pending")
    session.add(delivery)
    session.flush()
    result = send(channel.kind, url, secret, payload, str(delivery.id), settings.alert_delivery_timeout_seconds,
                  outbound)
    delivery.status, delivery.attempts = ("delivered" if result.ok else "failed"), 1
    delivery.response_status, delivery.last_error = result.status_code, result.error
    delivery.delivered_at = func.now() if result.ok else None
    record(session, actor, "alert_channel.test", f"alert_channel:{channel.id}",
           {"ok": result.ok, "status_code": result.status_code, "error": result.error})
    return {"channel_id": channel.id, "ok": result.ok, "status_code": result.status_code, "error": result.error,
            "latency_ms": result.latency_ms}


# ---------------------------------------------------------------------------------------------------- rules


def rules_public(session: Session, rules: list[AlertRule],
                 scope: list[uuid.UUID] | None) -> list[dict[str, Any]]:
    """`scope`: the pipelines the caller may see (None: all); `firing` counts only their open alerts (and global)."""
    ids = [r.id for r in rules]
    open_alerts = select(AlertEvent.rule_id, func.count()).where(AlertEvent.rule_id.in_(ids),
                                                                 AlertEvent.resolved_at.is_(None))
    if scope is not None:
        open_alerts = open_alerts.where(AlertEvent.pipeline_id.is_(None) | AlertEvent.pipeline_id.in_(scope))
    firing = dict(session.execute(open_alerts.group_by(AlertEvent.rule_id)).all()) if ids else {}
    pipeline_ids = {r.pipeline_id for r in rules if r.pipeline_id}
    names = dict(session.execute(select(Pipeline.id, Pipeline.name).where(Pipeline.id.in_(pipeline_ids))).all()) \
        if pipeline_ids else {}
    return [{"id": r.id, "name": r.name, "kind": r.kind, "pipeline_id": r.pipeline_id,
             "pipeline_name": names.get(r.pipeline_id), "threshold": r.threshold,
             "threshold_unit": THRESHOLD_UNITS.get(r.kind),
             "channels": [{"id": c.id, "name": c.name, "kind": c.kind} for c in r.channels],
             "enabled": r.enabled, "firing": firing.get(r.id, 0), "owner_id": r.owner_id, "created_at": r.created_at,
             "updated_at": r.updated_at} for r in rules]


def list_rules(session: Session, where: ColumnElement[bool] | None = None) -> list[AlertRule]:
    query = select(AlertRule).order_by(AlertRule.name)
    return list(session.scalars(query if where is None else query.where(where)))


def get_rule(session: Session, rule_id: uuid.UUID, for_update: bool = False) -> AlertRule:
    query = select(AlertRule).where(AlertRule.id == rule_id)
    rule = session.scalar(query.with_for_update() if for_update else query)
    if rule is None:
        raise NotFound("Alert rule not found")
    return rule


def channels_by_id(session: Session, ids: list[uuid.UUID]) -> list[AlertChannel]:
    """The channels that exist among `ids` (the caller checks access; `_channels` reports the missing)."""
    return list(session.scalars(select(AlertChannel).where(AlertChannel.id.in_(ids)))) if ids else []


def _channels(session: Session, ids: list[uuid.UUID]) -> list[AlertChannel]:
    found = list(session.scalars(select(AlertChannel).where(AlertChannel.id.in_(ids)))) if ids else []
    missing = sorted(str(i) for i in set(ids) - {c.id for c in found})
    if missing:
        raise Unprocessable("Alert channels not found", {"field": "channel_ids", "missing": missing})
    return found


def _pipeline(session: Session, pipeline_id: uuid.UUID | None) -> None:
    if pipeline_id is not None and session.scalar(select(Pipeline.id).where(
            Pipeline.id == pipeline_id, Pipeline.deleted_at.is_(None))) is None:
        raise Unprocessable("Pipeline not found", {"field": "pipeline_id"})


def create_rule(session: Session, actor: Actor, body: RuleCreate) -> AlertRule:
    _unique(session, AlertRule, body.name)
    _pipeline(session, body.pipeline_id)
    rule = AlertRule(name=body.name, kind=body.kind, pipeline_id=body.pipeline_id, threshold=body.threshold,
                     enabled=body.enabled, created_by=actor.username, owner_id=actor.user_id,
                     channels=_channels(session, body.channel_ids))
    session.add(rule)
    session.flush()
    record(session, actor, "alert_rule.create", f"alert_rule:{rule.id}",
           {"name": rule.name, "kind": rule.kind, "pipeline_id": str(rule.pipeline_id) if rule.pipeline_id else None,
            "threshold": rule.threshold})
    return rule


def update_rule(session: Session, settings: Settings, actor: Actor, rule_id: uuid.UUID, body: RuleUpdate) -> AlertRule:
    rule = get_rule(session, rule_id, for_update=True)
    fields = body.model_fields_set
    kind = body.kind if body.kind is not None else rule.kind
    threshold = body.threshold if "threshold" in fields else rule.threshold
    pipeline_id = body.pipeline_id if "pipeline_id" in fields else rule.pipeline_id
    try:
        check_rule_shape(kind, threshold, pipeline_id)
    except ValueError as exc:
        raise Unprocessable(str(exc)[0].upper() + str(exc)[1:]) from None
    if body.name is not None:
        _unique(session, AlertRule, body.name, exclude=rule.id)
        rule.name = body.name
    _pipeline(session, pipeline_id)
    if (kind, threshold, pipeline_id) != (rule.kind, rule.threshold, rule.pipeline_id):
        # What "firing" meant changed: close the open alerts; the next pass fires again if the new rule holds.
        resolve_all(session, rule, "The rule was changed", settings.ui_url)
        rule.kind, rule.threshold, rule.pipeline_id = kind, threshold, pipeline_id
    if body.channel_ids is not None:
        rule.channels = _channels(session, body.channel_ids)
    if body.enabled is not None and body.enabled != rule.enabled:
        if not body.enabled:
            resolve_all(session, rule, "The rule was disabled", settings.ui_url)
        rule.enabled = body.enabled
    record(session, actor, "alert_rule.update", f"alert_rule:{rule.id}", {"fields": sorted(fields)})
    return rule


def delete_rule(session: Session, settings: Settings, actor: Actor, rule_id: uuid.UUID) -> None:
    rule = get_rule(session, rule_id, for_update=True)
    resolve_all(session, rule, "The rule was deleted", settings.ui_url)
    record(session, actor, "alert_rule.delete", f"alert_rule:{rule.id}", {"name": rule.name})
    session.delete(rule)


# -------------------------------------------------------------------------------------------------- history


def history(session: Session, settings: Settings, limit: int, before_id: int | None, pipeline_id: uuid.UUID | None,
            rule_id: uuid.UUID | None, state: str | None, scope: list[uuid.UUID] | None = None) -> dict[str, Any]:
    """Alerts newest first; pass `next_before_id` as `before_id` for the next page. `scope`: the pipelines the
    caller may see (None: all), global alerts always."""
    query = select(AlertEvent).order_by(AlertEvent.id.desc()).limit(limit + 1)
    if scope is not None:
        query = query.where(AlertEvent.pipeline_id.is_(None) | AlertEvent.pipeline_id.in_(scope))
    if before_id is not None:
        query = query.where(AlertEvent.id < before_id)
    if pipeline_id is not None:
        query = query.where(AlertEvent.pipeline_id == pipeline_id)
    if rule_id is not None:
        query = query.where(AlertEvent.rule_id == rule_id)
    if state is not None:
        query = query.where(AlertEvent.state == state)
    events = list(session.scalars(query))
    page = events[:limit]
    return {"items": [{"id": e.id, "rule_id": e.rule_id, "rule_name": e.rule_name, "rule_kind": e.rule_kind,
                       "pipeline_id": e.pipeline_id, "pipeline_name": e.pipeline_name, "state": e.state,
                       "message": e.message, "value": e.value, "threshold": e.threshold, "fired_at": e.fired_at,
                       "resolved_at": e.resolved_at, "resolution": e.resolution,
                       "link": link_for(settings.ui_url, e.pipeline_id),
                       "deliveries": [{"id": d.id, "channel_id": d.channel_id, "channel_name": d.channel_name,
                                       "notification": d.notification, "status": d.status, "attempts": d.attempts,
                                       "response_status": d.response_status, "last_error": d.last_error,
                                       "created_at": d.created_at, "delivered_at": d.delivered_at}
                                      for d in e.deliveries]} for e in page],
            "next_before_id": page[-1].id if len(events) > limit else None}
