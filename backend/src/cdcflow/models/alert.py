"""Alerting: rules (what to watch), channels (where to send), events (the history), deliveries (the outbox).

Channel URLs and signing secrets are stored encrypted (core.crypto), like connection passwords: a Slack incoming
webhook URL is itself a credential.
"""

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cdcflow.models.base import Base, Timestamps, UUIDPrimaryKey

alert_rule_channels = Table(
    "alert_rule_channels", Base.metadata,
    Column("rule_id", UUID(as_uuid=True), ForeignKey("alert_rules.id", ondelete="CASCADE"), primary_key=True),
    Column("channel_id", UUID(as_uuid=True), ForeignKey("alert_channels.id", ondelete="CASCADE"), primary_key=True),
)


class AlertChannel(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "alert_channels"

    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(16))                   # webhook | slack
    url_encrypted: Mapped[str] = mapped_column(Text)
    url_hint: Mapped[str] = mapped_column(String(300))              # scheme://host/… : safe to show
    secret_encrypted: Mapped[str | None] = mapped_column(Text)      # HMAC key of a generic webhook
    enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")
    created_by: Mapped[str | None] = mapped_column(String(64))
    # The owner manages it; others reach it through grants (resource_grants), admins always. NULL: admins only.
    owner_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), ForeignKey("users.id", ondelete="SET NULL"),
                                                       index=True)


class AlertRule(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "alert_rules"

    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    # None: the rule watches every pipeline (or, for event_logger_down, the logger itself).
    pipeline_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), ForeignKey("pipelines.id"), index=True)
    threshold: Mapped[float | None] = mapped_column(Float)          # unit depends on kind (alerts/schemas.py)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")
    created_by: Mapped[str | None] = mapped_column(String(64))
    # The owner manages it; others reach it through grants (resource_grants), admins always. NULL: admins only.
    owner_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), ForeignKey("users.id", ondelete="SET NULL"),
                                                       index=True)

    channels: Mapped[list[AlertChannel]] = relationship(secondary=alert_rule_channels, lazy="selectin",
                                                        order_by=AlertChannel.name)


class AlertRuleState(Base):
    """Since when a rule's condition has held for a subject (for "degraded for N minutes"); gone when it clears."""

    __tablename__ = "alert_rule_states"

    rule_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("alert_rules.id", ondelete="CASCADE"),
                                               primary_key=True)
    subject: Mapped[str] = mapped_column(String(64), primary_key=True)
    since: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class AlertEvent(Base):
    """One firing of a rule for a subject (a pipeline id, or "global"), resolved in place. The partial unique index
    is the de-duplication: at most one open event per (rule, subject), whatever the number of API processes."""

    __tablename__ = "alert_events"
    __table_args__ = (
        Index("uq_alert_events_open", "rule_id", "subject", unique=True, postgresql_where=text("resolved_at IS NULL")),
        Index("ix_alert_events_pipeline", "pipeline_id", text("id DESC")),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    rule_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True),
                                                      ForeignKey("alert_rules.id", ondelete="SET NULL"), index=True)
    rule_name: Mapped[str] = mapped_column(String(100))
    rule_kind: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(64))
    pipeline_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), ForeignKey("pipelines.id"))
    pipeline_name: Mapped[str | None] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(16))                  # firing | resolved
    message: Mapped[str] = mapped_column(Text)
    value: Mapped[float | None] = mapped_column(Float)
    threshold: Mapped[float | None] = mapped_column(Float)
    fired_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolution: Mapped[str | None] = mapped_column(Text)

    deliveries: Mapped[list["AlertDelivery"]] = relationship(lazy="selectin", order_by="AlertDelivery.id")


class AlertDelivery(Base):
    """One notification to one channel: written in the evaluator's transaction, sent by the delivery worker."""

    __tablename__ = "alert_deliveries"
    __table_args__ = (Index("ix_alert_deliveries_due", "next_attempt_at", postgresql_where=text("status = 'pending'")),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    event_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("alert_events.id", ondelete="CASCADE"),
                                                 index=True)
    channel_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True),
                                                         ForeignKey("alert_channels.id", ondelete="SET NULL"))
    channel_name: Mapped[str] = mapped_column(String(100))
    notification: Mapped[str] = mapped_column(String(16))           # firing | resolved | test
    payload: Mapped[dict] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(16), default="pending", server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    response_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
