"""Connection bodies. Input carries the password; output only says whether one is set."""

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from cdcflow.engine.hostnames import normalise_host
from cdcflow.models import AccessLevel, ConnectionType, DatabaseType
from cdcflow.pipelines.schemas import MAX_TABLES, TABLE_PATTERN

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9 _.\-]{0,99}$"
# The characters a host name or an IP literal may use; normalise_host decides whether the spelling is acceptable
# (0x7f000001 and 127.1 are not) and stores the one canonical form.
HOST_PATTERN = r"^[A-Za-z0-9.\-:\[\]]+$"
Host = Annotated[str, Field(min_length=1, max_length=255, pattern=HOST_PATTERN), AfterValidator(normalise_host)]
IDENT_PATTERN = r"^[A-Za-z_][A-Za-z0-9_$\-]{0,62}$"
DEFAULT_PORTS = {DatabaseType.POSTGRESQL: 5432, DatabaseType.MARIADB: 3306}
SslMode = Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]


class ConnectionOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sslmode: SslMode = "prefer"
    # SCRAM-SHA-256 is always required unless this is set; a cleartext password is never sent.
    allow_md5: bool = False


class ConnectionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100, pattern=NAME_PATTERN)
    connection_type: ConnectionType
    database_type: DatabaseType = DatabaseType.POSTGRESQL
    host: Host
    port: int = Field(default=5432, ge=1, le=65535)
    database: str = Field(min_length=1, max_length=63, pattern=IDENT_PATTERN)
    username: str = Field(min_length=1, max_length=63, pattern=IDENT_PATTERN)
    password: str = Field(min_length=1, max_length=1024)
    schema_name: str = Field(default="public", min_length=1, max_length=63, pattern=IDENT_PATTERN, alias="schema")
    options: ConnectionOptions = Field(default_factory=ConnectionOptions)

    @model_validator(mode="after")
    def _database_defaults(self) -> "ConnectionCreate":
        """MariaDB's own defaults for what was not sent: port 3306, and the database as the schema (a MariaDB
        database is what PostgreSQL calls a schema)."""
        if self.database_type == DatabaseType.MARIADB:
            if "port" not in self.model_fields_set:
                self.port = DEFAULT_PORTS[DatabaseType.MARIADB]
            if "schema_name" not in self.model_fields_set:
                self.schema_name = self.database
        return self


class ConnectionUpdate(BaseModel):
    """Every field optional; an omitted password keeps the stored one, unless host, port, database or username
    change: then the password must be sent again (the stored one only ever goes where it was first given)."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=100, pattern=NAME_PATTERN)
    connection_type: ConnectionType | None = None
    host: Host | None = None
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
    # As many and as long as a pipeline may select: the names are echoed back in the checks.
    tables: list[Annotated[str, StringConstraints(max_length=127, pattern=TABLE_PATTERN)]] = Field(
        default_factory=list, max_length=MAX_TABLES)


class PreflightCheck(BaseModel):
    name: str
    ok: bool
    detail: str
    # A warning does not fail the test (ok stays true) but names a risk worth fixing.
    warning: bool = False


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
