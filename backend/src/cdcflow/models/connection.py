"""Registered source and target databases. The password column holds ciphertext only (core.crypto)."""

import enum
import uuid

from sqlalchemy import Enum, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from cdcflow.models.base import Base, SoftDelete, Timestamps, UUIDPrimaryKey, enum_values


class ConnectionType(str, enum.Enum):
    SOURCE = "source"
    TARGET = "target"


class DatabaseType(str, enum.Enum):
    POSTGRESQL = "postgresql"
    MARIADB = "mariadb"


class Connection(UUIDPrimaryKey, Timestamps, SoftDelete, Base):
    __tablename__ = "connections"
    # Names are unique among live rows; a soft-deleted name can be reused.
    __table_args__ = (Index("uq_connections_name_live", "name", unique=True,
                            postgresql_where=text("deleted_at IS NULL")),)

    name: Mapped[str] = mapped_column(String(100))
    connection_type: Mapped[ConnectionType] = mapped_column(
        Enum(ConnectionType, name="connection_type", values_callable=enum_values))
    database_type: Mapped[DatabaseType] = mapped_column(
        Enum(DatabaseType, name="database_type", values_callable=enum_values))
    host: Mapped[str] = mapped_column(String(255))
    port: Mapped[int] = mapped_column(Integer)
    database: Mapped[str] = mapped_column(String(63))
    username: Mapped[str] = mapped_column(String(63))
    password_encrypted: Mapped[str] = mapped_column(Text)
    schema: Mapped[str] = mapped_column(String(63), default="public", server_default="public")
    options: Mapped[dict] = mapped_column(JSONB, default=dict, server_default="{}")
    # NULL: nobody but admins (rows from before resource permissions whose creator is unknown, or whose owner
    # was deleted).
    owner_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), ForeignKey("users.id", ondelete="SET NULL"),
                                                       index=True)
