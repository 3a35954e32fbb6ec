"""Pipeline bodies."""

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from cdcflow.models import (
    AccessLevel,
    CdcStatus,
    FullLoadStatus,
    PipelineMode,
    PipelineStatus,
    SchemaChangePolicy,
)
from cdcflow.pipelines.states import PipelineAction

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9 _.\-]{0,99}$"
TABLE_PATTERN = r"^[A-Za-z_][A-Za-z0-9_$]{0,62}\.[A-Za-z_][A-Za-z0-9_$]{0,62}$"
TableName = str
DatabaseTypeName = Literal["postgresql", "mariadb"]
MAX_TABLES = 500
MIB = 1024 ** 2
# A slot guardian threshold: at least 1 MiB (smaller is one WAL segment's noise), at most 1 PiB.
WalBytes = Field(default=None, ge=MIB, le=1024 ** 5)


def _check_tables(tables: list[str]) -> list[str]:
    import re

    seen: set[str] = set()
    for t in tables:
        if not re.fullmatch(TABLE_PATTERN, t):
            raise ValueError(f"table names are schema.table with letters, digits and _ only (got {t[:80]!r})")
        if t in seen:
            raise ValueError(f"table {t} is listed twice")
        seen.add(t)
    return tables


class PipelineCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100, pattern=NAME_PATTERN)
    source_connection_id: uuid.UUID
    target_connection_id: uuid.UUID
    mode: PipelineMode
    tables: list[TableName] = Field(min_length=1, max_length=MAX_TABLES)
    schema_change_policy: SchemaChangePolicy = SchemaChangePolicy.PROPAGATE
    drop_removed_columns: bool = False

    _tables = field_validator("tables")(_check_tables)


class PipelineUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=100, pattern=NAME_PATTERN)
    target_connection_id: uuid.UUID | None = None
    mode: PipelineMode | None = None
    tables: list[TableName] | None = Field(default=None, min_length=1, max_length=MAX_TABLES)
    # Retained WAL (bytes) at which the pipeline's health turns degraded, then error. Editable in any status.
    wal_warning_bytes: int | None = WalBytes
    wal_critical_bytes: int | None = WalBytes
    schema_change_policy: SchemaChangePolicy | None = None
    drop_removed_columns: bool | None = None

    @field_validator("tables")
    @classmethod
    def _valid_tables(cls, v: list[str] | None) -> list[str] | None:
        return None if v is None else _check_tables(v)

    @model_validator(mode="after")
    def _critical_above_warning(self) -> "PipelineUpdate":
        if self.wal_warning_bytes is not None and self.wal_critical_bytes is not None \
                and self.wal_critical_bytes <= self.wal_warning_bytes:
            raise ValueError("wal_critical_bytes must be greater than wal_warning_bytes")
        return self

    def only_thresholds(self) -> bool:
        return self.model_fields_set <= {"wal_warning_bytes", "wal_critical_bytes"}


class PipelineTablePublic(BaseModel):
    schema_name: str = Field(serialization_alias="schema")
    table: str
    state: str
    rows_copied: int
    rows_estimated: int | None
    bytes_copied: int
    error: str | None = None
    resync_state: str | None = None     # REQUESTED, RUNNING, COMPLETED, FAILED (the last resync of this table)
    ignored_columns: list[str] = []     # source columns not copied (policy ignore)


class PipelinePublic(BaseModel):
    id: uuid.UUID
    name: str
    source_connection_id: uuid.UUID
    target_connection_id: uuid.UUID
    mode: PipelineMode
    status: PipelineStatus
    full_load_status: FullLoadStatus
    cdc_status: CdcStatus
    debezium_connector_name: str | None
    sink_connector_name: str | None
    kafka_topics: list[str]
    tables: list[PipelineTablePublic]
    last_error: str | None
    schema_change_policy: SchemaChangePolicy
    drop_removed_columns: bool
    created_at: datetime
    updated_at: datetime
    owner_id: uuid.UUID | None = Field(description="The user who owns it; null: admins only")
    access: AccessLevel = Field(description="What the caller may do with it: view, operate or manage")
    wal_warning_bytes: int
    wal_critical_bytes: int
    # From the health monitor's latest pass (null when not observed): WAL the source keeps for the pipeline's
    # slot, also while it is stopped, and the health that follows from it and the rest of the data plane.
    retained_wal_bytes: int | None = None
    health: str | None = None
    allowed_actions: list[PipelineAction] = Field(
        description="The actions the pipeline's status allows now (the lifecycle table in pipelines/states.py); "
                    "what the caller may do also depends on `access`")
    source_database_type: DatabaseTypeName = "postgresql"
    target_database_type: DatabaseTypeName = "postgresql"
    unavailable_actions: dict[str, str] = Field(
        default_factory=dict,
        description="Actions (and `schema_change_policy`) the pipeline's databases do not support yet, each with the "
                    "reason to show; they are never in `allowed_actions`")


class PipelineList(BaseModel):
    items: list[PipelinePublic]
    total: int
    limit: int
    offset: int


class SchemaPolicyUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    schema_change_policy: SchemaChangePolicy
    drop_removed_columns: bool | None = None


class ResetRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    confirm: str = Field(min_length=1, max_length=100, description="the pipeline's name, to confirm the reset")


class TableRef(BaseModel):
    model_config = ConfigDict(extra="forbid")
    table: str = Field(pattern=TABLE_PATTERN, max_length=127, description="schema.table")


class SchemaChangePublic(BaseModel):
    id: int
    pipeline_id: str
    table_name: str | None
    outcome: str                       # APPLIED, NO_TARGET_CHANGE, PAUSED
    created_at: str | None
    changes: list[dict[str, Any]]      # kind, column, before, after, outcome, message, ddl
    applied: list[str]                 # the DDL run on the target
    before: list[dict[str, Any]] | None
    after: list[dict[str, Any]] | None
    source_lsn: str | None = None


class SchemaChangeList(BaseModel):
    items: list[SchemaChangePublic]
