"""Event counters kept by triggers on pipeline_runs (migration 0003), so dashboards never scan the events.

pipeline_event_totals: one row per pipeline, table and event type (what the dashboard sums).
pipeline_event_rollups: per pipeline, hour, table and event type (what charts and per-table counts read).
Both count CDC rows with deleted_at IS NULL, exactly what the seed's aggregation query counts.
"""

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, String
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from cdcflow.models.base import Base


class PipelineEventTotal(Base):
    __tablename__ = "pipeline_event_totals"

    pipeline_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("pipelines.id"), primary_key=True)
    table_name: Mapped[str] = mapped_column(String(130), primary_key=True)
    event_type: Mapped[str] = mapped_column(String(16), primary_key=True)
    events: Mapped[int] = mapped_column(BigInteger, default=0)
    latency_sum_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    latency_count: Mapped[int] = mapped_column(BigInteger, default=0)
    last_event_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PipelineEventRollup(Base):
    __tablename__ = "pipeline_event_rollups"

    pipeline_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("pipelines.id"), primary_key=True)
    bucket: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    table_name: Mapped[str] = mapped_column(String(130), primary_key=True)
    event_type: Mapped[str] = mapped_column(String(16), primary_key=True)
    events: Mapped[int] = mapped_column(BigInteger, default=0)
    latency_sum_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    latency_count: Mapped[int] = mapped_column(BigInteger, default=0)


class PipelineEventMinute(Base):
    """Per pipeline, minute and event type, for the last days (purged by retention): rates and charts."""

    __tablename__ = "pipeline_event_minutes"
    __table_args__ = (Index("ix_pipeline_event_minutes_minute", "minute"),)

    pipeline_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("pipelines.id"), primary_key=True)
    minute: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    event_type: Mapped[str] = mapped_column(String(16), primary_key=True)
    events: Mapped[int] = mapped_column(BigInteger, default=0)
    latency_sum_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    latency_count: Mapped[int] = mapped_column(BigInteger, default=0)
