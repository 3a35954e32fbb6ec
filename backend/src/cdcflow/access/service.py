"""Grants and ownership of pipelines, connections, alert channels and alert rules (admins call these through the
grants API)."""

import uuid
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from cdcflow.access.policy import Resource, label_of, model_of
from cdcflow.audit.service import record
from cdcflow.core.deps import Actor
from cdcflow.core.errors import NotFound, Unprocessable
from cdcflow.models import AccessLevel, ResourceGrant, ResourceType, Role, User


def resource(session: Session, resource_type: ResourceType, resource_id: uuid.UUID) -> Resource:
    model = model_of(resource_type)
    query = select(model).where(model.id == resource_id)
    if hasattr(model, "deleted_at"):  # pipelines and connections are soft-deleted; alert channels and rules are not
        query = query.where(model.deleted_at.is_(None))
    found = session.scalar(query)
    if found is None:
        raise NotFound(f"{label_of(resource_type)} not found")
    return found


def _user_ref(user: User | None) -> dict[str, Any] | None:
    return None if user is None else {"id": user.id, "username": user.username, "role": user.role,
                                      "active": user.active}


def _user(session: Session, user_id: uuid.UUID) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("User not found")
    return user


def describe(session: Session, resource_type: ResourceType, resource_id: uuid.UUID) -> dict[str, Any]:
    target = resource(session, resource_type, resource_id)
    rows = session.execute(select(ResourceGrant, User).join(User, User.id == ResourceGrant.user_id).where(
        ResourceGrant.resource_type == resource_type, ResourceGrant.resource_id == resource_id)
        .order_by(User.username)).all()
    owner = session.get(User, target.owner_id) if target.owner_id else None
    return {"resource_type": resource_type, "resource_id": target.id, "name": target.name, "owner": _user_ref(owner),
            "grants": [{"user": _user_ref(user), "level": grant.level, "granted_by": grant.granted_by,
                        "created_at": grant.created_at, "updated_at": grant.updated_at} for grant, user in rows]}


def set_grant(session: Session, actor: Actor, resource_type: ResourceType, resource_id: uuid.UUID,
              user_id: uuid.UUID, level: AccessLevel) -> dict[str, Any]:
    """Grant or change a user's level. Refused when it could not take effect, so what the list shows is true."""
    target = resource(session, resource_type, resource_id)
    user = _user(session, user_id)
    if user.role == Role.ADMIN:
        raise Unprocessable(f"{user.username} is an admin and already has every access")
    if target.owner_id == user.id:
        raise Unprocessable(f"{user.username} owns this {resource_type.value} already")
    if user.role == Role.VIEWER and level != AccessLevel.VIEW:
        raise Unprocessable(f"{user.username} is a viewer: only view access can be granted",
                            {"field": "level"})
    grant = session.scalar(select(ResourceGrant).where(
        ResourceGrant.resource_type == resource_type, ResourceGrant.resource_id == target.id,
        ResourceGrant.user_id == user.id).with_for_update())
    before = grant.level.value if grant else None
    if grant is None:
        grant = ResourceGrant(resource_type=resource_type, resource_id=target.id, user_id=user.id, level=level,
                              granted_by=actor.username)
        session.add(grant)
    else:
        grant.level, grant.granted_by = level, actor.username
    session.flush()
    session.refresh(grant)
    record(session, actor, "access.grant", f"{resource_type.value}:{target.id}",
           {"user": user.username, "level": level.value, "previous": before})
    return {"user": _user_ref(user), "level": grant.level, "granted_by": grant.granted_by,
            "created_at": grant.created_at, "updated_at": grant.updated_at}


def revoke_grant(session: Session, actor: Actor, resource_type: ResourceType, resource_id: uuid.UUID,
                 user_id: uuid.UUID) -> None:
    target = resource(session, resource_type, resource_id)
    user = _user(session, user_id)
    grant = session.scalar(select(ResourceGrant).where(
        ResourceGrant.resource_type == resource_type, ResourceGrant.resource_id == target.id,
        ResourceGrant.user_id == user.id))
    if grant is None:
        raise NotFound(f"{user.username} has no grant on this {resource_type.value}")
    session.delete(grant)
    record(session, actor, "access.revoke", f"{resource_type.value}:{target.id}",
           {"user": user.username, "level": grant.level.value})


def transfer_owner(session: Session, actor: Actor, resource_type: ResourceType, resource_id: uuid.UUID,
                   user_id: uuid.UUID | None) -> uuid.UUID | None:
    """Make another user (an operator or admin) the owner, or nobody (admins only). Returns the previous owner."""
    target = resource(session, resource_type, resource_id)
    previous = target.owner_id
    new_owner = _user(session, user_id) if user_id is not None else None
    if new_owner is not None and new_owner.role == Role.VIEWER:
        raise Unprocessable(f"{new_owner.username} is a viewer and cannot own a {resource_type.value}; grant view "
                            "access instead", {"field": "user_id"})
    target.owner_id = new_owner.id if new_owner else None
    if new_owner is not None:
        # The owner has every level: a grant beside it would only linger after a later transfer.
        session.execute(delete(ResourceGrant).where(
            ResourceGrant.resource_type == resource_type, ResourceGrant.resource_id == target.id,
            ResourceGrant.user_id == new_owner.id))
    record(session, actor, "access.owner", f"{resource_type.value}:{target.id}",
           {"owner": new_owner.username if new_owner else None,
            "previous_owner_id": str(previous) if previous else None})
    return previous


def drop_grants(session: Session, resource_type: ResourceType, resource_id: uuid.UUID) -> None:
    """With the resource (soft-)deleted, nobody keeps access to it through a grant."""
    session.execute(delete(ResourceGrant).where(ResourceGrant.resource_type == resource_type,
                                                ResourceGrant.resource_id == resource_id))
