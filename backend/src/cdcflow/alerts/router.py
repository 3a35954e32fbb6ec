"""/api/v1/alerts: rules, channels (with a test notification), and the alert history."""

import uuid
from typing import Any, Literal

from fastapi import APIRouter, Query, Response

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
    Reader,
    SecretBoxDep,
    SessionDep,
    SettingsDep,
)
from cdcflow.core.errors import NotFound, Unprocessable
from cdcflow.core.validation import BIGINT_MAX
from cdcflow.pipelines.service import get_pipeline_for

router = APIRouter(prefix="/alerts", tags=["alerts"])


def _require_visible(session, actor: Actor, pipeline_id: uuid.UUID | None) -> None:
    """A rule about a pipeline needs that pipeline to be visible to the caller (404 otherwise, as everywhere)."""
    if pipeline_id is not None:
        get_pipeline_for(session, actor, pipeline_id)


@router.get("/rules", response_model=RuleList)
def list_rules(actor: Reader, session: SessionDep) -> dict[str, Any]:
    """Global rules, and the rules of the pipelines the caller may see."""
    scope = visible_pipeline_ids(session, actor)
    rules = [r for r in service.list_rules(session) if scope is None or r.pipeline_id is None or r.pipeline_id in scope]
    return {"items": service.rules_public(session, rules)}


def _require_usable(session, actor: Actor, pipeline_id: uuid.UUID | None) -> None:
    """A rule's pipeline must be one the caller may see; missing and hidden answer alike (422 on the field)."""
    try:
        _require_visible(session, actor, pipeline_id)
    except NotFound:
        raise Unprocessable("Pipeline not found", {"field": "pipeline_id"}) from None


@router.post("/rules", response_model=RulePublic, status_code=201)
def create_rule(body: RuleCreate, actor: AlertManager, session: SessionDep) -> dict[str, Any]:
    _require_usable(session, actor, body.pipeline_id)
    rule = service.create_rule(session, actor, body)
    return service.rules_public(session, [rule])[0]


@router.get("/rules/{rule_id}", response_model=RulePublic)
def get_rule(rule_id: uuid.UUID, actor: Reader, session: SessionDep) -> dict[str, Any]:
    rule = service.get_rule(session, rule_id)
    _require_visible(session, actor, rule.pipeline_id)
    return service.rules_public(session, [rule])[0]


@router.put("/rules/{rule_id}", response_model=RulePublic)
def update_rule(rule_id: uuid.UUID, body: RuleUpdate, actor: AlertManager, session: SessionDep,
                settings: SettingsDep) -> dict[str, Any]:
    _require_visible(session, actor, service.get_rule(session, rule_id).pipeline_id)
    _require_usable(session, actor, body.pipeline_id)
    rule = service.update_rule(session, settings, actor, rule_id, body)
    session.flush()
    return service.rules_public(session, [rule])[0]


@router.delete("/rules/{rule_id}", status_code=204)
def delete_rule(rule_id: uuid.UUID, actor: AlertManager, session: SessionDep, settings: SettingsDep) -> Response:
    """Open alerts of the rule resolve (their channels hear so) before it goes."""
    _require_visible(session, actor, service.get_rule(session, rule_id).pipeline_id)
    service.delete_rule(session, settings, actor, rule_id)
    return Response(status_code=204)


@router.get("/channels", response_model=ChannelList)
def list_channels(actor: Reader, session: SessionDep) -> dict[str, Any]:
    return {"items": [service.channel_public(c) for c in service.list_channels(session)]}


@router.post("/channels", response_model=ChannelPublic, status_code=201)
def create_channel(body: ChannelCreate, actor: AlertManager, session: SessionDep,
                   box: SecretBoxDep) -> dict[str, Any]:
    return service.channel_public(service.create_channel(session, box, actor, body))


@router.get("/channels/{channel_id}", response_model=ChannelPublic)
def get_channel(channel_id: uuid.UUID, actor: Reader, session: SessionDep) -> dict[str, Any]:
    return service.channel_public(service.get_channel(session, channel_id))


@router.put("/channels/{channel_id}", response_model=ChannelPublic)
def update_channel(channel_id: uuid.UUID, body: ChannelUpdate, actor: AlertManager, session: SessionDep,
                   box: SecretBoxDep) -> dict[str, Any]:
    channel = service.update_channel(session, box, actor, channel_id, body)
    session.flush()
    session.refresh(channel)
    return service.channel_public(channel)


@router.delete("/channels/{channel_id}", status_code=204)
def delete_channel(channel_id: uuid.UUID, actor: AlertManager, session: SessionDep) -> Response:
    """Rules lose this channel; past deliveries keep its name in the history."""
    service.delete_channel(session, actor, channel_id)
    return Response(status_code=204)


@router.post("/channels/{channel_id}/test", response_model=TestResult)
def test_channel(channel_id: uuid.UUID, actor: AlertManager, session: SessionDep, box: SecretBoxDep,
                 settings: SettingsDep) -> dict[str, Any]:
    """Sends one test notification now (one attempt, the delivery timeout) and reports how it went."""
    return service.test_channel(session, box, settings, actor, channel_id)


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
