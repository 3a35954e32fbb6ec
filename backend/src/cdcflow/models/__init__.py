"""All ORM tables, one naming convention. Import from here so Alembic sees every table."""

from cdcflow.models.audit import AuditLog
from cdcflow.models.base import Base
from cdcflow.models.counters import PipelineEventMinute, PipelineEventRollup, PipelineEventTotal
from cdcflow.models.connection import Connection, ConnectionType, DatabaseType
from cdcflow.models.pipeline import (
    CdcStatus,
    FullLoadStatus,
    Pipeline,
    PipelineMode,
    PipelineRun,
    PipelineStatus,
    PipelineTable,
    SchemaChangePolicy,
)
from cdcflow.models.user import RefreshToken, Role, User

__all__ = [
    "AuditLog", "Base", "CdcStatus", "Connection", "ConnectionType", "DatabaseType", "FullLoadStatus",
    "Pipeline", "PipelineEventMinute", "PipelineEventRollup", "PipelineEventTotal", "PipelineMode", "PipelineRun", "PipelineStatus", "PipelineTable", "RefreshToken", "Role", "SchemaChangePolicy",
    "User",
]
