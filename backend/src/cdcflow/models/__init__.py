"""All ORM tables, one naming convention. Import from here so Alembic sees every table."""

from cdcflow.models.access import AccessLevel, ResourceGrant, ResourceType
from cdcflow.models.alert import AlertChannel, AlertDelivery, AlertEvent, AlertRule, AlertRuleState
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
from cdcflow.models.job import PipelineJob
from cdcflow.models.user import RefreshToken, Role, User

__all__ = [
    "AccessLevel", "AlertChannel", "AlertDelivery", "AlertEvent", "AlertRule", "AlertRuleState", "PipelineJob",
    "AuditLog", "Base", "CdcStatus", "Connection", "ConnectionType", "DatabaseType", "FullLoadStatus",
    "Pipeline", "PipelineEventMinute", "PipelineEventRollup", "PipelineEventTotal", "PipelineMode", "PipelineRun", "PipelineStatus", "PipelineTable", "RefreshToken", "ResourceGrant", "ResourceType", "Role", "SchemaChangePolicy", "User",
]
