"""/api/v1/{pipelines,connections}/{id}/grants|owner and /api/v1/alerts/{channels,rules}/{id}/grants|owner: who may
see and act on what.

Admin only (access:manage). A revocation or an owner change takes effect at once, Socket.IO rooms included.
"""

import uuid
from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy.orm import Session

from cdcflow.access import service
from cdcflow.access.schemas import GrantPublic, GrantRequest, OwnerRequest, ResourceAccess
from cdcflow.core.deps import AccessAdmin, SessionDep
from cdcflow.models import ResourceType

pipelines_router = APIRouter(prefix="/pipelines", tags=["access"])
connections_router = APIRouter(prefix="/connections", tags=["access"])
PIPELINE, CONNECTION = ResourceType.PIPELINE, ResourceType.CONNECTION


def _took_away(request: Request, session: Session, user_ids: list[uuid.UUID | None]) -> None:
    """Commit first, then drop the users' live subscriptions they may no longer hold."""
    session.commit()
    for user_id in user_ids:
        if user_id is not None:
            request.app.state.realtime.revalidate_user(user_id)


@pipelines_router.get("/{pipeline_id}/grants", response_model=ResourceAccess)
def list_pipeline_grants(pipeline_id: uuid.UUID, actor: AccessAdmin, session: SessionDep) -> dict[str, Any]:
    return service.describe(session, PIPELINE, pipeline_id)


@pipelines_router.put("/{pipeline_id}/grants/{user_id}", response_model=GrantPublic)
def grant_pipeline(pipeline_id: uuid.UUID, user_id: uuid.UUID, body: GrantRequest, actor: AccessAdmin,
                   session: SessionDep) -> dict[str, Any]:
    return service.set_grant(session, actor, PIPELINE, pipeline_id, user_id, body.level)


@pipelines_router.delete("/{pipeline_id}/grants/{user_id}", status_code=204)
def revoke_pipeline_grant(pipeline_id: uuid.UUID, user_id: uuid.UUID, actor: AccessAdmin, session: SessionDep,
                          request: Request) -> Response:
    service.revoke_grant(session, actor, PIPELINE, pipeline_id, user_id)
    _took_away(request, session, [user_id])
    return Response(status_code=204)


@pipelines_router.put("/{pipeline_id}/owner", response_model=ResourceAccess)
def set_pipeline_owner(pipeline_id: uuid.UUID, body: OwnerRequest, actor: AccessAdmin, session: SessionDep,
                       request: Request) -> dict[str, Any]:
    previous = service.transfer_owner(session, actor, PIPELINE, pipeline_id, body.user_id)
    _took_away(request, session, [previous])
    return service.describe(session, PIPELINE, pipeline_id)


@connections_router.get("/{connection_id}/grants", response_model=ResourceAccess)
def list_connection_grants(connection_id: uuid.UUID, actor: AccessAdmin, session: SessionDep) -> dict[str, Any]:
    return service.describe(session, CONNECTION, connection_id)


@connections_router.put("/{connection_id}/grants/{user_id}", response_model=GrantPublic)
def grant_connection(connection_id: uuid.UUID, user_id: uuid.UUID, body: GrantRequest, actor: AccessAdmin,
                     session: SessionDep) -> dict[str, Any]:
    return service.set_grant(session, actor, CONNECTION, connection_id, user_id, body.level)


@connections_router.delete("/{connection_id}/grants/{user_id}", status_code=204)
def revoke_connection_grant(connection_id: uuid.UUID, user_id: uuid.UUID, actor: AccessAdmin,
                            session: SessionDep) -> Response:
    service.revoke_grant(session, actor, CONNECTION, connection_id, user_id)
    return Response(status_code=204)


@connections_router.put("/{connection_id}/owner", response_model=ResourceAccess)
def set_connection_owner(connection_id: uuid.UUID, body: OwnerRequest, actor: AccessAdmin,
                         session: SessionDep) -> dict[str, Any]:
    service.transfer_owner(session, actor, CONNECTION, connection_id, body.user_id)
    return service.describe(session, CONNECTION, connection_id)


alerts_router = APIRouter(prefix="/alerts", tags=["access"])
ALERT_CHANNEL, ALERT_RULE = ResourceType.ALERT_CHANNEL, ResourceType.ALERT_RULE


@alerts_router.get("/channels/{channel_id}/grants", response_model=ResourceAccess)
def list_channel_grants(channel_id: uuid.UUID, actor: AccessAdmin, session: SessionDep) -> dict[str, Any]:
    return service.describe(session, ALERT_CHANNEL, channel_id)


@alerts_router.put("/channels/{channel_id}/grants/{user_id}", response_model=GrantPublic)
def grant_channel(channel_id: uuid.UUID, user_id: uuid.UUID, body: GrantRequest, actor: AccessAdmin,
                  session: SessionDep) -> dict[str, Any]:
    return service.set_grant(session, actor, ALERT_CHANNEL, channel_id, user_id, body.level)


@alerts_router.delete("/channels/{channel_id}/grants/{user_id}", status_code=204)
def revoke_channel_grant(channel_id: uuid.UUID, user_id: uuid.UUID, actor: AccessAdmin,
                         session: SessionDep) -> Response:
    service.revoke_grant(session, actor, ALERT_CHANNEL, channel_id, user_id)
    return Response(status_code=204)


@alerts_router.put("/channels/{channel_id}/owner", response_model=ResourceAccess)
def set_channel_owner(channel_id: uuid.UUID, body: OwnerRequest, actor: AccessAdmin,
                      session: SessionDep) -> dict[str, Any]:
    service.transfer_owner(session, actor, ALERT_CHANNEL, channel_id, body.user_id)
    return service.describe(session, ALERT_CHANNEL, channel_id)


@alerts_router.get("/rules/{rule_id}/grants", response_model=ResourceAccess)
def list_rule_grants(rule_id: uuid.UUID, actor: AccessAdmin, session: SessionDep) -> dict[str, Any]:
    return service.describe(session, ALERT_RULE, rule_id)


@alerts_router.put("/rules/{rule_id}/grants/{user_id}", response_model=GrantPublic)
def grant_rule(rule_id: uuid.UUID, user_id: uuid.UUID, body: GrantRequest, actor: AccessAdmin,
               session: SessionDep) -> dict[str, Any]:
    return service.set_grant(session, actor, ALERT_RULE, rule_id, user_id, body.level)


@alerts_router.delete("/rules/{rule_id}/grants/{user_id}", status_code=204)
def revoke_rule_grant(rule_id: uuid.UUID, user_id: uuid.UUID, actor: AccessAdmin, session: SessionDep) -> Response:
    service.revoke_grant(session, actor, ALERT_RULE, rule_id, user_id)
    return Response(status_code=204)


@alerts_router.put("/rules/{rule_id}/owner", response_model=ResourceAccess)
def set_rule_owner(rule_id: uuid.UUID, body: OwnerRequest, actor: AccessAdmin, session: SessionDep) -> dict[str, Any]:
    """A rule watches only what its owner may see: a new owner changes what it fires on at the next pass."""
    service.transfer_owner(session, actor, ALERT_RULE, rule_id, body.user_id)
    return service.describe(session, ALERT_RULE, rule_id)
