"""/api/v1/alerts: rules, channels (with a test notification), and the alert history.

Channels and rules have an owner and grants like pipelines (access/policy.py): view to see one, operate to send a
test notification or to attach a channel to a rule, manage to edit or delete. What a caller may not see answers 404.
"""

import uuid
from typing import Any, Literal

from fastapi import APIRouter, Query, Response

from cdcflow.access import policy
from cdcflow.access.policy import visible_pipeline_ids
from cdcflow.alerts import service
from cdcflow.alerts.schemas import (
    AlertHistory,
    ChannelCreate,
    ChannelList,
    ChannelPublic,
    ChannelUpdate,
    RuleCreate,
    RuleList,
    RulePublic,
    RuleUpdate,
    TestResult,
)
from cdcflow.core.deps import (
    Actor,
    AlertManager,
    PolicyDep,
    Reader,
    SecretBoxDep,
    SessionDep,
    SettingsDep,
)
from cdcflow.core.errors import Forbidden, NotFound, Unprocessable
from cdcflow.core.validation import BIGINT_MAX
from cdcflow.models import AccessLevel, AlertChannel, AlertRule, ResourceType
from cdcflow.pipelines.service import get_pipeline_for

router = APIRouter(prefix="/alerts", tags=["alerts"])


def _require_visible(session, actor: Actor, pipeline_id: uuid.UUID | None) -> None:
    """A rule about a pipeline needs that pipeline to be visible to the caller (404 otherwise, as everywhere)."""
    if pipeline_id is not None:
        get_pipeline_for(session, actor, pipeline_id)


@router.get("/rules", response_model=RuleList)
def list_rules(actor: Reader, session: SessionDep) -> dict[str, Any]:
    """The rules the caller may see (owner, grant, admin) that watch every pipeline or one the caller may see."""
    scope = visible_pipeline_ids(session, actor)
    rules = [r for r in service.list_rules(session, policy.visible(actor, ResourceType.ALERT_RULE))
             if scope is None or r.pipeline_id is None or r.pipeline_id in scope]
    return {"items": service.rules_public(session, rules, scope)}


def _rule(session, actor: Actor, rule_id: uuid.UUID, needed: AccessLevel, for_update: bool = False) -> AlertRule:
    """The rule if the caller may act on it at `needed` (404 if they cannot see it or its pipeline, 403 below)."""
    rule = service.get_rule(session, rule_id)
    try:
        _require_visible(session, actor, rule.pipeline_id)
    except NotFound:
        raise NotFound("Alert rule not found") from None
    policy.require_access(session, actor, rule, needed)
    return service.get_rule(session, rule_id, for_update=True) if for_update else rule


def _channel(session, actor: Actor, channel_id: uuid.UUID, needed: AccessLevel) -> AlertChannel:
    channel = service.get_channel(session, channel_id)
    policy.require_access(session, actor, channel, needed)
    return channel


def _require_channels(session, actor: Actor, channel_ids: list[uuid.UUID] | None) -> None:
    """Attaching a channel to a rule sends notifications to it: operate on each; hidden ones read as missing."""
    if not channel_ids:
        return
    channels = service.channels_by_id(session, channel_ids)
    found = policy.levels(session, actor, channels)
    hidden = sorted(str(c.id) for c in channels if found[c.id] is None)
    if hidden:
        raise Unprocessable("Alert channels not found", {"field": "channel_ids", "missing": hidden})
    low = [c for c in channels if found[c.id].rank < AccessLevel.OPERATE.rank]
    if low:
        raise Forbidden(f"Alert channel {low[0].name!r}: attaching it to a rule needs operate access; you have "
                        f"{found[low[0].id].value}", {"needed": "operate", "have": found[low[0].id].value,
                                                      "field": "channel_ids"})


def _require_usable(session, actor: Actor, pipeline_id: uuid.UUID | None) -> None:
    """A rule's pipeline must be one the caller may see; missing and hidden answer alike (422 on the field)."""
    try:
        _require_visible(session, actor, pipeline_id)
    except NotFound:
        raise Unprocessable("Pipeline not found", {"field": "pipeline_id"}) from None


@router.post("/rules", response_model=RulePublic, status_code=201)
def create_rule(body: RuleCreate, actor: AlertManager, session: SessionDep) -> dict[str, Any]:
    _require_usable(session, actor, body.pipeline_id)
    _require_channels(session, actor, body.channel_ids)
    rule = service.create_rule(session, actor, body)
    return service.rules_public(session, [rule], visible_pipeline_ids(session, actor))[0]


@router.get("/rules/{rule_id}", response_model=RulePublic)
def get_rule(rule_id: uuid.UUID, actor: Reader, session: SessionDep) -> dict[str, Any]:
    rule = _rule(session, actor, rule_id, AccessLevel.VIEW)
    return service.rules_public(session, [rule], visible_pipeline_ids(session, actor))[0]


@router.put("/rules/{rule_id}", response_model=RulePublic)
def update_rule(rule_id: uuid.UUID, body: RuleUpdate, actor: AlertManager, session: SessionDep,
                settings: SettingsDep) -> dict[str, Any]:
    _rule(session, actor, rule_id, AccessLevel.MANAGE)
    _require_usable(session, actor, body.pipeline_id)
    _require_channels(session, actor, body.channel_ids)
    rule = service.update_rule(session, settings, actor, rule_id, body)
    session.flush()
    return service.rules_public(session, [rule], visible_pipeline_ids(session, actor))[0]


@router.delete("/rules/{rule_id}", status_code=204)
def delete_rule(rule_id: uuid.UUID, actor: AlertManager, session: SessionDep, settings: SettingsDep) -> Response:
    """Open alerts of the rule resolve (their channels hear so) before it goes."""
    _rule(session, actor, rule_id, AccessLevel.MANAGE)
    service.delete_rule(session, settings, actor, rule_id)
    return Response(status_code=204)


@router.get("/channels", response_model=ChannelList)
def list_channels(actor: Reader, session: SessionDep) -> dict[str, Any]:
    """The channels the caller may see (owner, grant, admin)."""
    channels = service.list_channels(session, policy.visible(actor, ResourceType.ALERT_CHANNEL))
    return {"items": [service.channel_public(c) for c in channels]}


@router.post("/channels", response_model=ChannelPublic, status_code=201)
def create_channel(body: ChannelCreate, actor: AlertManager, session: SessionDep,
                   box: SecretBoxDep) -> dict[str, Any]:
    return service.channel_public(service.create_channel(session, box, actor, body))


@router.get("/channels/{channel_id}", response_model=ChannelPublic)
def get_channel(channel_id: uuid.UUID, actor: Reader, session: SessionDep) -> dict[str, Any]:
    return service.channel_public(_channel(session, actor, channel_id, AccessLevel.VIEW))


@router.put("/channels/{channel_id}", response_model=ChannelPublic)
def update_channel(channel_id: uuid.UUID, body: ChannelUpdate, actor: AlertManager, session: SessionDep,
                   box: SecretBoxDep) -> dict[str, Any]:
    _channel(session, actor, channel_id, AccessLevel.MANAGE)
    channel = service.update_channel(session, box, actor, channel_id, body)
    session.flush()
    session.refresh(channel)
    return service.channel_public(channel)


@router.delete("/channels/{channel_id}", status_code=204)
def delete_channel(channel_id: uuid.UUID, actor: AlertManager, session: SessionDep) -> Response:
    """Rules lose this channel; past deliveries keep its name in the history."""
    _channel(session, actor, channel_id, AccessLevel.MANAGE)
    service.delete_channel(session, actor, channel_id)
    return Response(status_code=204)


@router.post("/channels/{channel_id}/test", response_model=TestResult)
def test_channel(channel_id: uuid.UUID, actor: AlertManager, session: SessionDep, box: SecretBoxDep,
                 settings: SettingsDep, outbound: PolicyDep) -> dict[str, Any]:
    """Sends one test notification now (one attempt, the delivery timeout) and reports how it went."""
    _channel(session, actor, channel_id, AccessLevel.OPERATE)
    return service.test_channel(session, box, settings, outbound, actor, channel_id)


@router.get("/history", response_model=AlertHistory)
def get_history(actor: Reader, session: SessionDep, settings: SettingsDep, limit: int = Query(50, ge=1, le=500),
                before_id: int | None = Query(None, ge=1, le=BIGINT_MAX), pipeline_id: uuid.UUID | None = None,
                rule_id: uuid.UUID | None = None,
                state: Literal["firing", "resolved"] | None = None) -> dict[str, Any]:
    """Alerts newest first, each with its notifications and their delivery status: global alerts and those of the
    pipelines the caller may see."""
    _require_visible(session, actor, pipeline_id)
    return service.history(session, settings, limit, before_id, pipeline_id, rule_id, state,
                           visible_pipeline_ids(session, actor))
