"""Durable leases on pipeline jobs: which API process runs a pipeline's start or stop, renewed by its heartbeat.

A lease outlives the process that holds it: when the heartbeat stops (kill -9, power loss), another API process sees
it lapse and takes the job over (pipelines/watchdog.py).
"""

import uuid
from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, String, func
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from cdcflow.models.base import Base


class PipelineJob(Base):
    __tablename__ = "pipeline_jobs"

    pipeline_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("pipelines.id", ondelete="CASCADE"),
                                                   primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))            # start | stop
    owner: Mapped[str] = mapped_column(String(128))          # host:pid:nonce of the API process
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    heartbeat_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # Set by a stop request that reached a process not running the job; the owner (or the taker-over) honours it.
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
