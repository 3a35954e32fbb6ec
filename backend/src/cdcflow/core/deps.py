"""Request dependencies: the session (commit on success, rollback on error), the caller, and permission checks.

Every /api/v1 route declares exactly one `require(Permission.X)`; the route matrix test enforces it.
"""

import enum
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from cdcflow.auth.sessions import authenticate
from cdcflow.core.config import Settings
from cdcflow.core.crypto import SecretBox
from cdcflow.core.db import session_scope
from cdcflow.core.errors import Forbidden, Unauthorized
from cdcflow.core.security import InvalidToken
from cdcflow.engine.outbound import OutboundPolicy
from cdcflow.models import Role


class Permission(str, enum.Enum):
    READ = "read"
    WRITE_CONNECTIONS = "connections:write"
    WRITE_PIPELINES = "pipelines:write"
    OPERATE_PIPELINES = "pipelines:operate"
    MANAGE_ALERTS = "alerts:manage"
    MANAGE_USERS = "users:manage"
    MANAGE_ACCESS = "access:manage"  # owners and grants of pipelines and connections
    OPERATE_PLATFORM = "platform:operate"  # the shared plane every pipeline uses (restart the event logger)


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.VIEWER: frozenset({Permission.READ}),
    Role.OPERATOR: frozenset({Permission.READ, Permission.WRITE_CONNECTIONS, Permission.WRITE_PIPELINES,
                              Permission.OPERATE_PIPELINES, Permission.MANAGE_ALERTS}),
    Role.ADMIN: frozenset(Permission),
}


def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


def get_session(request: Request) -> Iterator[Session]:
    with session_scope(request.app.state.session_factory) as session:
        yield session


def get_secret_box(request: Request) -> SecretBox:
    return request.app.state.secret_box


def get_outbound_policy(request: Request) -> OutboundPolicy:
    return request.app.state.engine_context.policy


# Function scope: the unit of work commits before the response leaves, so a client that gets a 2xx (a token, a
# logout) can rely on the change being visible to its next request, and a failed commit is an error, not a 200.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
SecretBoxDep = Annotated[SecretBox, Depends(get_secret_box)]
PolicyDep = Annotated[OutboundPolicy, Depends(get_outbound_policy)]

_bearer = HTTPBearer(auto_error=False)


@dataclass(frozen=True)
class Actor:
    """The authenticated caller, as services and the audit log see it."""

    user_id: uuid.UUID
    username: str
    role: Role
    client_ip: str | None

    def can(self, permission: Permission) -> bool:
        return permission in ROLE_PERMISSIONS[self.role]


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def get_actor(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("Authentication required")
    try:
        # Checks signature and expiry, then user, token version and login session against the database.
        user, _ = authenticate(session, request.app.state.settings.jwt_secret, credentials.credentials)
    except InvalidToken:
        raise Unauthorized("Invalid or expired token") from None
    # The role comes from the database, not the token: a demotion takes effect at once.
    return Actor(user_id=user.id, username=user.username, role=user.role, client_ip=client_ip(request))


def require(permission: Permission):
    def dependency(actor: Annotated[Actor, Depends(get_actor)]) -> Actor:
        if not actor.can(permission):
            raise Forbidden(f"Your role ({actor.role.value}) may not do this ({permission.value})")
        return actor

    dependency.permission = permission  # type: ignore[attr-defined]  # read by the route matrix test
    return dependency


Reader = Annotated[Actor, Depends(require(Permission.READ))]
ConnectionWriter = Annotated[Actor, Depends(require(Permission.WRITE_CONNECTIONS))]
PipelineWriter = Annotated[Actor, Depends(require(Permission.WRITE_PIPELINES))]
PipelineOperator = Annotated[Actor, Depends(require(Permission.OPERATE_PIPELINES))]
UserAdmin = Annotated[Actor, Depends(require(Permission.MANAGE_USERS))]
AccessAdmin = Annotated[Actor, Depends(require(Permission.MANAGE_ACCESS))]
AlertManager = Annotated[Actor, Depends(require(Permission.MANAGE_ALERTS))]
PlatformOperator = Annotated[Actor, Depends(require(Permission.OPERATE_PLATFORM))]
