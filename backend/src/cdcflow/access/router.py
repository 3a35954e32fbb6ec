"""/api/v1/pipelines/{id}/grants|owner and /api/v1/connections/{id}/grants|owner: who may see and act on what.

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
