"""Bodies of the grants API: who owns a pipeline or connection, and who else may view, operate or manage it."""

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from cdcflow.models import AccessLevel, ResourceType, Role


class UserRef(BaseModel):
    id: uuid.UUID
    username: str
    role: Role
    active: bool


class GrantPublic(BaseModel):
    user: UserRef
    level: AccessLevel
    granted_by: str
    created_at: datetime
    updated_at: datetime


class ResourceAccess(BaseModel):
    resource_type: ResourceType
    resource_id: uuid.UUID
    name: str
    owner: UserRef | None
    grants: list[GrantPublic]


class GrantRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    level: AccessLevel


class OwnerRequest(BaseModel):
    """user_id null: nobody owns it any more (admins only)."""

    model_config = ConfigDict(extra="forbid")
    user_id: uuid.UUID | None
