"""Connection bodies. Input carries the password; output only says whether one is set."""

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from cdcflow.models import AccessLevel, ConnectionType, DatabaseType

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9 _.\-]{0,99}$"
HOST_PATTERN = r"^[A-Za-z0-9]([A-Za-z0-9.\-:]{0,253}[A-Za-z0-9])?$"
IDENT_PATTERN = r"^[A-Za-z_][A-Za-z0-9_$\-]{0,62}$"
SslMode = Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]


class ConnectionOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sslmode: SslMode = "prefer"


class ConnectionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100, pattern=NAME_PATTERN)
    connection_type: ConnectionType
    database_type: DatabaseType = DatabaseType.POSTGRESQL
    host: str = Field(min_length=1, max_length=255, pattern=HOST_PATTERN)
    port: int = Field(default=5432, ge=1, le=65535)
    database: str = Field(min_length=1, max_length=63, pattern=IDENT_PATTERN)
    username: str = Field(min_length=1, max_length=63, pattern=IDENT_PATTERN)
    password: str = Field(min_length=1, max_length=1024)
    schema_name: str = Field(default="public", min_length=1, max_length=63, pattern=IDENT_PATTERN, alias="schema")
    options: ConnectionOptions = Field(default_factory=ConnectionOptions)


class ConnectionUpdate(BaseModel):
    """Every field optional; an omitted password keeps the stored one."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=100, pattern=NAME_PATTERN)
    connection_type: ConnectionType | None = None
    host: str | None = Field(default=None, min_length=1, max_length=255, pattern=HOST_PATTERN)
    port: int | None = Field(default=None, ge=1, le=65535)
    database: str | None = Field(default=None, min_length=1, max_length=63, pattern=IDENT_PATTERN)
    username: str | None = Field(default=None, min_length=1, max_length=63, pattern=IDENT_PATTERN)
    password: str | None = Field(default=None, min_length=1, max_length=1024)
    schema_name: str | None = Field(default=None, min_length=1, max_length=63, pattern=IDENT_PATTERN, alias="schema")
    options: ConnectionOptions | None = None


class ConnectionPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True, populate_by_name=True)
    id: uuid.UUID
    name: str
    connection_type: ConnectionType
    database_type: DatabaseType
    host: str
    port: int
    database: str
    username: str
    schema_name: str = Field(serialization_alias="schema")
    options: dict
    has_password: bool = True
    created_at: datetime
    updated_at: datetime
    owner_id: uuid.UUID | None = Field(description="The user who owns it; null: admins only")
    access: AccessLevel = Field(description="What the caller may do with it: view, operate or manage")


class ConnectionList(BaseModel):
    items: list[ConnectionPublic]
    total: int


class ConnectionTestRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tables: list[str] = Field(default_factory=list, max_length=1000)


class PreflightCheck(BaseModel):
    name: str
    ok: bool
    detail: str


class ConnectionTestResult(BaseModel):
    ok: bool
    error: str | None
    server_version: str | None
    latency_ms: float
    checks: list[PreflightCheck]


class TableInfo(BaseModel):
    schema_name: str = Field(serialization_alias="schema")
    table: str
    estimated_rows: int
    primary_key: list[str]
    replica_identity: str


class ColumnInfo(BaseModel):
    name: str
    type: str
    nullable: bool
    default: str | None
    primary_key: bool
