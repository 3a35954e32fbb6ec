"""Response bodies of the monitoring and lifecycle read endpoints (typed for the generated web client)."""

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Event(BaseModel):
    id: int
    pipeline_id: str
    event_type: str
    table_name: str | None
    source_lsn: int | None
    latency_ms: int | None
    kafka_topic: str | None
    kafka_partition: int | None
    kafka_offset: int | None
    created_at: str
    op: str | None
    primary_key: Any = None
    before: Any = None
    after: Any = None
    tx_id: int | None = None
    source_ts_ms: int | None = None


class EventsPage(BaseModel):
    items: list[Event]
    next_before_id: int | None
    limit: int


class Dashboard(BaseModel):
    pipeline_id: uuid.UUID | None
    total_events: int
    insert_count: int
    update_count: int
    delete_count: int
    truncate_count: int
    average_latency_ms: float | None
    # Changes the source connector wrote to Kafka that the sink has not applied to the target yet (sum over the
    # pipelines, from the topics' high watermarks and the sink group's committed offsets, as of the last poll)
    events_pending: int
    events_produced: int
    events_applied: int
    error_count: int
    pipelines: int
    last_event_at: datetime | None
    as_of: datetime


class PartitionLag(BaseModel):
    topic: str
    partition: int
    committed: int | None = None
    high_watermark: int | None = None
    lag: int | None = None
    error: str | None = None


class LoggerErrorView(BaseModel):
    kind: str
    message: str
    since: float
    last_seen: float
    count: int
    until: float | None = None


class EventLoggerStatus(BaseModel):
    state: Literal["starting", "consuming", "reconnecting", "stopped"]
    running: bool
    enabled: bool
    current_error: LoggerErrorView | None = None
    current_errors: list[LoggerErrorView] = []
    error_history: list[LoggerErrorView] = []
    group_id: str
    assigned_partitions: list[PartitionLag]
    total_lag: int
    # Process-wide counters (every pipeline): null for non-admins, whose view is limited to their pipelines.
    events_per_second_1m: float | None
    stored_total: int | None
    duplicates_total: int | None
    rejected_total: int | None
    tombstones_total: int | None
    last_error: str | None
    last_error_at: float | None = None
    last_batch_at: float | None = None
    started_at: float | None = None
    lag_checked_at: float | None = None
    topic_regex: str | None = None


class TaskView(BaseModel):
    id: int
    state: str
    worker_id: str | None
    error: str | None
    trace: str | None


class ConnectorView(BaseModel):
    exists: bool
    state: str | None
    worker_id: str | None
    error: str | None = None
    tasks: list[TaskView]


class ConnectView(BaseModel):
    reachable: bool
    error: str | None
    source: ConnectorView | None
    sink: ConnectorView | None


class ProblemView(BaseModel):
    component: str
    code: str
    severity: Literal["degraded", "error"]
    since: datetime
    message: str
    action: str
    actions: list[str] = []


class WalView(BaseModel):
    """The slot guardian's figures: what the source keeps for the pipeline's replication slot."""

    observed_at: datetime
    slot_exists: bool
    slot_active: bool | None
    active_pid: int | None
    wal_status: str | None
    retained_bytes: int | None
    lag_bytes: int | None
    safe_wal_size: int | None
    max_slot_wal_keep_size: str | None
    wal_dir_bytes: int | None
    free_disk_bytes: int | None
    disk_note: str | None
    warning_bytes: int
    critical_bytes: int
    error: str | None


Health = Literal["ok", "degraded", "error"]


class PipelineStatusView(BaseModel):
    id: uuid.UUID
    name: str
    status: str
    full_load_status: str
    cdc_status: str
    last_error: str | None
    health: Health
    problems: list[ProblemView]
    wal: WalView | None
    observed_at: datetime | None
    connect: ConnectView
    updated_at: datetime
    # What the user can do now (restart_failed, resync, reset, resume, review_schema, ...; pipelines/recovery.py)
    available_actions: list[str] = []
    # Actions (and "schema_change_policy") that cannot work for this pipeline, with the reason to show: what its
    # databases do not support yet, or what the source user may not do (pipelines/capabilities.py)
    unavailable_actions: dict[str, str] = {}
    source_database_type: str = "postgresql"
    # Schema changes held for review (a PAUSED pipeline): table, kind, column, message, ddl it needs
    schema_pending: list[dict[str, Any]] = []


class ReachView(BaseModel):
    ok: bool
    at: float
    error: str | None


class PipelineHealthSummary(BaseModel):
    id: uuid.UUID
    name: str
    status: str
    health: Health
    problems: list[ProblemView]
    retained_wal_bytes: int | None


class PlatformHealth(BaseModel):
    """The shared data plane (broker, Kafka Connect, event logger) and every pipeline's health."""

    health: Health
    problems: list[ProblemView]
    observed_at: datetime | None
    kafka: ReachView | None
    connect: ReachView | None
    event_logger_state: str | None
    pipelines: list[PipelineHealthSummary]


class TableProgressView(BaseModel):
    schema_name: str
    table: str
    state: str
    rows_copied: int
    rows_estimated: int | None
    bytes_copied: int
    percent: float | None = Field(description="None while unknown (no row estimate)")
    rows_per_second: float | None
    eta_seconds: float | None
    started_at: datetime | None
    completed_at: datetime | None
    error: str | None


class LastRun(BaseModel):
    started_at: datetime | None
    completed_at: datetime | None
    status: str
    snapshot_lsn: str | None
    rows: int | None
    rows_per_second: float | None
    seconds: float | None


class PipelineProgressView(BaseModel):
    id: uuid.UUID
    status: str
    full_load_status: str
    tables: list[TableProgressView]
    rows_copied: int
    rows_estimated: int | None
    percent: float | None = Field(description="None while unknown (a table has no row estimate)")
    last_run: LastRun | None
    as_of: datetime


class TableSync(BaseModel):
    schema_name: str
    table: str
    source_rows: int | None
    target_rows: int | None
    source_checksum: str | None
    target_checksum: str | None
    match: bool
    problem: str | None


class SyncStats(BaseModel):
    pipeline_id: uuid.UUID
    match: bool
    tables: list[TableSync]
    seconds: float
    checked_at: datetime


class LatencyStage(BaseModel):
    """One stage over the pipeline's recent events; percentiles are null when nothing was observed (`note` says
    why), never estimated."""
    stage: Literal["source_to_kafka", "kafka_to_target", "source_to_target", "source_to_logger", "source_to_stored",
                   "source_to_socketio"]
    label: str
    p50_ms: float | None
    p99_ms: float | None
    count: int
    note: str | None = None


class PipelineLatency(BaseModel):
    pipeline_id: uuid.UUID
    status: str
    sample_events: int
    window_seconds: int
    stages: list[LatencyStage]


class TableMetrics(BaseModel):
    """Counts of one table of one pipeline: `insert` / `update` / `delete` / `truncate` appear for the kinds seen."""
    model_config = ConfigDict(extra="allow")
    pipeline_id: uuid.UUID
    table: str
    total: int
    last_event_at: datetime | None
    average_latency_ms: float | None
    insert: int | None = None
    update: int | None = None
    delete: int | None = None
    truncate: int | None = None


class Metrics(BaseModel):
    """Rates, per-table counts and replication lag, of one pipeline or of every pipeline the caller may see.
    `replication` maps a pipeline id to its last observed slot lag (null: not observed yet)."""
    pipeline_id: uuid.UUID | None
    events_per_second_1m: float
    events_per_second_5m: float
    events_per_second_60m: float
    tables: list[TableMetrics]
    error_count: int
    last_event_at: datetime | None
    replication: dict[str, dict[str, Any] | None]
    lag_bytes: int
    lag_seconds: float
    as_of: datetime | None


class LatencyPercentiles(BaseModel):
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    sample: int
    window: int


class LsnLatency(BaseModel):
    """The source slot's lag (PostgreSQL sources; `slot_exists` false where there is none) with the newest stored
    event and the event latency percentiles."""
    model_config = ConfigDict(extra="allow")
    pipeline_id: uuid.UUID
    slot_exists: bool | None = None
    last_event: dict[str, Any] | None
    latency: LatencyPercentiles


class TimeseriesPoint(BaseModel):
    """One bucket: counts by kind (`metric=events`) or the average latency (`metric=latency`)."""
    t: datetime
    insert: int = 0
    update: int = 0
    delete: int = 0
    truncate: int = 0
    average_latency_ms: float | None = None


class Timeseries(BaseModel):
    metric: Literal["events", "latency"]
    bucket: Literal["minute", "hour"]
    points: list[TimeseriesPoint]


class PurgeResult(BaseModel):
    deleted: int
    older_than_days: float
