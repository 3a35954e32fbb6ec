"""The one place that decides what a caller may see and do on a pipeline, connection, alert channel or alert rule;
every route goes through it.

- admins: manage everything;
- the owner: manage;
- a grant: its level;
- anyone else: nothing, and the resource answers 404 as if it did not exist (ids do not leak).
The role still caps what a level allows: a viewer never gets more than view, whatever the grant says. Role checks
(core/deps `require`) run first, so a viewer asking to start a pipeline gets 403 before any resource is looked up.
"""

import uuid
from collections.abc import Iterable, Sequence

from sqlalchemy import ColumnElement, or_, select, true
from sqlalchemy.orm import Session

from cdcflow.core.deps import Actor
from cdcflow.core.errors import Forbidden, NotFound
from cdcflow.models import (
    AccessLevel,
    AlertChannel,
    AlertRule,
    Connection,
    Pipeline,
    ResourceGrant,
    ResourceType,
    Role,
)

Resource = Pipeline | Connection | AlertChannel | AlertRule

_CEILING = {Role.VIEWER: AccessLevel.VIEW, Role.OPERATOR: AccessLevel.MANAGE, Role.ADMIN: AccessLevel.MANAGE}
_MODELS: dict[ResourceType, type[Resource]] = {
    ResourceType.PIPELINE: Pipeline, ResourceType.CONNECTION: Connection,
    ResourceType.ALERT_CHANNEL: AlertChannel, ResourceType.ALERT_RULE: AlertRule}
_LABEL = {ResourceType.PIPELINE: "Pipeline", ResourceType.CONNECTION: "Connection",
          ResourceType.ALERT_CHANNEL: "Alert channel", ResourceType.ALERT_RULE: "Alert rule"}


def type_of(resource: Resource) -> ResourceType:
    return next(t for t, model in _MODELS.items() if isinstance(resource, model))


def model_of(resource_type: ResourceType) -> type[Resource]:
    return _MODELS[resource_type]


def label_of(resource_type: ResourceType) -> str:
    return _LABEL[resource_type]


def unrestricted(actor: Actor) -> bool:
    return actor.role == Role.ADMIN


def _capped(actor: Actor, level: AccessLevel | None) -> AccessLevel | None:
    if level is None:
        return None
    ceiling = _CEILING[actor.role]
    return level if level.rank <= ceiling.rank else ceiling


def _granted(session: Session, actor: Actor, resource_type: ResourceType,
             ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, AccessLevel]:
    if not ids:
        return {}
    rows = session.execute(select(ResourceGrant.resource_id, ResourceGrant.level).where(
        ResourceGrant.user_id == actor.user_id, ResourceGrant.resource_type == resource_type,
        ResourceGrant.resource_id.in_(list(ids)))).all()
    return {rid: level for rid, level in rows}


def levels(session: Session, actor: Actor, resources: Iterable[Resource]) -> dict[uuid.UUID, AccessLevel | None]:
    """The caller's level on each resource (None: cannot see it), with one query per resource type."""
    resources = list(resources)
    if unrestricted(actor):
        return {r.id: AccessLevel.MANAGE for r in resources}
    grants: dict[uuid.UUID, AccessLevel] = {}
    for resource_type in ResourceType:
        grants |= _granted(session, actor, resource_type, [r.id for r in resources if type_of(r) == resource_type])
    return {r.id: _capped(actor, AccessLevel.MANAGE if r.owner_id == actor.user_id else grants.get(r.id))
            for r in resources}


def level_on(session: Session, actor: Actor, resource: Resource) -> AccessLevel | None:
    return levels(session, actor, [resource])[resource.id]


def require_access(session: Session, actor: Actor, resource: Resource, needed: AccessLevel) -> AccessLevel:
    """404 when the caller cannot see the resource, 403 when they see it without the level the action needs."""
    level = level_on(session, actor, resource)
    label = _LABEL[type_of(resource)]
    if level is None:
        raise NotFound(f"{label} not found")
    if level.rank < needed.rank:
        raise Forbidden(f"{label} {resource.name!r}: this needs {needed.value} access; you have {level.value}",
                        {"needed": needed.value, "have": level.value})
    return level


def visible(actor: Actor, resource_type: ResourceType) -> ColumnElement[bool]:
    """A WHERE clause on the resource's table: the rows the caller may see (every row for an admin)."""
    if unrestricted(actor):
        return true()
    model = model_of(resource_type)
    granted = select(ResourceGrant.resource_id).where(ResourceGrant.user_id == actor.user_id,
                                                      ResourceGrant.resource_type == resource_type)
    return or_(model.owner_id == actor.user_id, model.id.in_(granted))


def visible_pipeline_ids(session: Session, actor: Actor) -> list[uuid.UUID] | None:
    """Ids of the live pipelines the caller may see; None means all of them (an admin): aggregates filter by it."""
    if unrestricted(actor):
        return None
    return list(session.scalars(select(Pipeline.id).where(Pipeline.deleted_at.is_(None),
                                                          visible(actor, ResourceType.PIPELINE))))


def scope_for(session: Session, actor: Actor, pipeline_id: uuid.UUID | None) -> list[uuid.UUID] | None:
    """The pipelines an aggregate covers: the one asked for (checked visible, else 404), or all the caller sees."""
    if pipeline_id is not None:
        pipeline = session.scalar(select(Pipeline).where(Pipeline.id == pipeline_id, Pipeline.deleted_at.is_(None)))
        if pipeline is None:
            raise NotFound("Pipeline not found")
        require_access(session, actor, pipeline, AccessLevel.VIEW)
        return [pipeline_id]
    return visible_pipeline_ids(session, actor)
