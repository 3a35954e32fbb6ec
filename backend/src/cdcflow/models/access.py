"""Resource-level access: grants that let one user see, operate or manage one pipeline, connection, alert channel or
alert rule.

A resource's owner (its `owner_id`) has every level on it; admins have every level on everything. A grant row names
the user, the resource and the level; levels are ordered (view < operate < manage).
"""

import enum
import uuid
from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Enum, ForeignKey, Identity, Index, String, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from cdcflow.models.base import Base, enum_values


class ResourceType(str, enum.Enum):
    PIPELINE = "pipeline"
    CONNECTION = "connection"
    ALERT_CHANNEL = "alert_channel"
    ALERT_RULE = "alert_rule"


class AccessLevel(str, enum.Enum):
    """view: read it (and, for a pipeline, its events and dashboards); operate: start/stop/pause/resume/verify a
    pipeline, or test, browse and build pipelines on a connection; manage: edit and delete it."""

    VIEW = "view"
    OPERATE = "operate"
    MANAGE = "manage"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {AccessLevel.VIEW: 1, AccessLevel.OPERATE: 2, AccessLevel.MANAGE: 3}


class ResourceGrant(Base):
    __tablename__ = "resource_grants"
    # No foreign key to the resource (two tables share this one); grants are removed with the resource.
    __table_args__ = (UniqueConstraint("resource_type", "resource_id", "user_id"),
                      Index("ix_resource_grants_user_id_resource_type", "user_id", "resource_type"))

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    resource_type: Mapped[ResourceType] = mapped_column(
        Enum(ResourceType, name="resource_type", values_callable=enum_values))
    resource_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"))
    level: Mapped[AccessLevel] = mapped_column(Enum(AccessLevel, name="access_level", values_callable=enum_values))
    granted_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(),
                                                 onupdate=func.now())
