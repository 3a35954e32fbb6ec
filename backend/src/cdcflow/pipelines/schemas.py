"""Pipeline bodies."""

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from cdcflow.models import AccessLevel, CdcStatus, FullLoadStatus, PipelineMode, PipelineStatus

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9 _.\-]{0,99}$"
TABLE_PATTERN = r"^[A-Za-z_][A-Za-z0-9_$]{0,62}\.[A-Za-z_][A-Za-z0-9_$]{0,62}$"
TableName = str
MAX_TABLES = 500


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

    _tables = field_validator("tables")(_check_tables)


class PipelineUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=100, pattern=NAME_PATTERN)
    target_connection_id: uuid.UUID | None = None
    mode: PipelineMode | None = None
    tables: list[TableName] | None = Field(default=None, min_length=1, max_length=MAX_TABLES)

    @field_validator("tables")
    @classmethod
    def _valid_tables(cls, v: list[str] | None) -> list[str] | None:
        return None if v is None else _check_tables(v)


class PipelineTablePublic(BaseModel):
    schema_name: str = Field(serialization_alias="schema")
    table: str
    state: str
    rows_copied: int
    rows_estimated: int | None
    bytes_copied: int


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
    created_at: datetime
    updated_at: datetime
    owner_id: uuid.UUID | None = Field(description="The user who owns it; null: admins only")
    access: AccessLevel = Field(description="What the caller may do with it: view, operate or manage")


class PipelineList(BaseModel):
    items: list[PipelinePublic]
    total: int
    limit: int
    offset: int
