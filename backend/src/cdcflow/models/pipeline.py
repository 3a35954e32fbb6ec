"""Pipelines, their selected tables (with full-load progress), and pipeline_runs (full-load runs and CDC events)."""

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Boolean,
    DateTime,
    Enum,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cdcflow.models.base import Base, SoftDelete, Timestamps, UUIDPrimaryKey, enum_values


class PipelineMode(str, enum.Enum):
    FULL_LOAD_ONLY = "full_load_only"
    CDC_ONLY = "cdc_only"
    FULL_LOAD_AND_CDC = "full_load_and_cdc"


class PipelineStatus(str, enum.Enum):
    NOT_STARTED = "NOT_STARTED"
    STARTING = "STARTING"
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    STOPPING = "STOPPING"
    STOPPED = "STOPPED"
    ERROR = "ERROR"


class FullLoadStatus(str, enum.Enum):
    NOT_STARTED = "NOT_STARTED"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    SKIPPED = "SKIPPED"


class CdcStatus(str, enum.Enum):
    NOT_STARTED = "NOT_STARTED"
    STARTING = "STARTING"
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    STOPPED = "STOPPED"
    ERROR = "ERROR"


GIB = 1024 ** 3
class SchemaChangePolicy(str, enum.Enum):
    """What a pipeline does when a captured table's definition changes on the source (README, "Schema changes")."""

    PROPAGATE = "propagate"
    PAUSE = "pause"
    IGNORE = "ignore"


class Pipeline(UUIDPrimaryKey, Timestamps, SoftDelete, Base):
    __tablename__ = "pipelines"
    __table_args__ = (Index("uq_pipelines_name_live", "name", unique=True,
                            postgresql_where=text("deleted_at IS NULL")),
                      CheckConstraint("wal_warning_bytes > 0 AND wal_critical_bytes > wal_warning_bytes",
                                      name="wal_thresholds"))

    name: Mapped[str] = mapped_column(String(100))
    source_connection_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("connections.id"),
                                                            index=True)
    target_connection_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("connections.id"),
                                                            index=True)
    mode: Mapped[PipelineMode] = mapped_column(Enum(PipelineMode, name="pipeline_mode", values_callable=enum_values))
    status: Mapped[PipelineStatus] = mapped_column(
        Enum(PipelineStatus, name="pipeline_status", values_callable=enum_values),
        default=PipelineStatus.NOT_STARTED, server_default=PipelineStatus.NOT_STARTED.value)
    full_load_status: Mapped[FullLoadStatus] = mapped_column(
        Enum(FullLoadStatus, name="full_load_status", values_callable=enum_values),
        default=FullLoadStatus.NOT_STARTED, server_default=FullLoadStatus.NOT_STARTED.value)
    cdc_status: Mapped[CdcStatus] = mapped_column(
        Enum(CdcStatus, name="cdc_status", values_callable=enum_values),
        default=CdcStatus.NOT_STARTED, server_default=CdcStatus.NOT_STARTED.value)
    debezium_connector_name: Mapped[str | None] = mapped_column(String(255))
    sink_connector_name: Mapped[str | None] = mapped_column(String(255))
    kafka_topics: Mapped[list] = mapped_column(JSONB, default=list, server_default="[]")
    last_error: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(64))
    # NULL: nobody but admins (rows from before resource permissions whose creator is unknown, or whose owner
    # was deleted).
    owner_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), ForeignKey("users.id", ondelete="SET NULL"),
                                                       index=True)
    # The slot guardian: WAL the source retains for this pipeline's slot turns health degraded, then error.
    wal_warning_bytes: Mapped[int] = mapped_column(BigInteger, default=GIB, server_default=str(GIB))
    wal_critical_bytes: Mapped[int] = mapped_column(BigInteger, default=10 * GIB, server_default=str(10 * GIB))
    schema_change_policy: Mapped[SchemaChangePolicy] = mapped_column(
        Enum(SchemaChangePolicy, name="schema_change_policy", values_callable=enum_values),
        default=SchemaChangePolicy.PROPAGATE, server_default=SchemaChangePolicy.PROPAGATE.value)
    # Columns dropped on the source are kept on the target (nullable) unless this is set.
    drop_removed_columns: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")

    tables: Mapped[list["PipelineTable"]] = relationship(
        back_populates="pipeline", cascade="all, delete-orphan", order_by="PipelineTable.position",
        lazy="selectin")


class PipelineTable(Base):
    """One selected source table of a pipeline, with its full-load progress."""

    __tablename__ = "pipeline_tables"
    __table_args__ = (UniqueConstraint("pipeline_id", "schema_name", "table_name"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    pipeline_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True),
                                                   ForeignKey("pipelines.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    schema_name: Mapped[str] = mapped_column(String(63))
    table_name: Mapped[str] = mapped_column(String(63))
    state: Mapped[str] = mapped_column(String(16), default="PENDING", server_default="PENDING")
    rows_copied: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    rows_estimated: Mapped[int | None] = mapped_column(BigInteger)
    bytes_copied: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    error: Mapped[str | None] = mapped_column(Text)
    # {"source": last seen source definition, "ignored": [columns not copied], "pending": [changes held for review],
    #  "drops": [columns to drop once the sink is past the DDL], "resync": {id, state, progress}}
    schema_state: Mapped[dict] = mapped_column(JSONB, default=dict, server_default="{}")

    pipeline: Mapped[Pipeline] = relationship(back_populates="tables")

    @property
    def qualified_name(self) -> str:
        return f"{self.schema_name}.{self.table_name}"


class PipelineRun(Base):
    """A FULL_LOAD run or one CDC event. Millions of rows, appended by the event logger: a bigint identity key
    (keyset pagination by id), real columns for every filter, and as few indexes as the reads need (migration 0016,
    docs/architecture.md "The event log's storage"): one unique key that is both the change's source identity (a
    change Debezium sent twice, a batch the logger read twice) and one row's history; the newest live events of a
    pipeline; a BRIN on time. No foreign key: pipelines are only soft-deleted, and the counter rows each batch
    upserts keep theirs."""

    __tablename__ = "pipeline_runs"
    __table_args__ = (
        # Uniqueness on the four is uniqueness on source_key (a hash of pipeline, position, tx, table, op and key);
        # leading with the row makes the same index row history's lookup (see events/history.py).
        Index("uq_pipeline_runs_event_identity", "pipeline_id", "table_name", "row_key", "source_key", unique=True),
        # Live CDC rows only: "newest events of a pipeline" is then an index-only walk (see monitoring/events.py).
        Index("ix_pipeline_runs_pipeline_recent", "pipeline_id", text("id DESC"),
              postgresql_where=text("deleted_at IS NULL AND run_type = 'CDC'")),
        Index("ix_pipeline_runs_started_at_brin", "started_at", postgresql_using="brin"),
        Index("ix_pipeline_runs_full_load", "pipeline_id", "started_at",
              postgresql_where=text("run_type = 'FULL_LOAD'")),
        Index("ix_pipeline_runs_schema_change", "pipeline_id", text("id DESC"),
              postgresql_where=text("run_type = 'SCHEMA_CHANGE'")),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    pipeline_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    run_type: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(32))
    event_type: Mapped[str | None] = mapped_column(String(16))
    table_name: Mapped[str | None] = mapped_column(String(130))
    source_lsn: Mapped[int | None] = mapped_column(BigInteger)
    latency_ms: Mapped[int | None] = mapped_column(Integer)
    kafka_topic: Mapped[str | None] = mapped_column(String(255))
    kafka_partition: Mapped[int | None] = mapped_column(Integer)
    kafka_offset: Mapped[int | None] = mapped_column(BigInteger)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    run_metadata: Mapped[dict] = mapped_column(JSONB, default=dict, server_default="{}")
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Hash of the change's source identity (events/parser.py source_identity); NULL for full-load runs.
    source_key: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    # The changed row's Debezium key ({"id": 42}; JSON null for a keyless change), what row history looks up.
    row_key: Mapped[Any] = mapped_column(JSONB, nullable=True)
