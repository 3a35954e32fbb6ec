"""Event counters maintained by statement-level triggers on pipeline_runs (inserts, soft deletes, purges):
per-table totals (dashboard), hourly rollups (history), minute buckets for the last days (rates, charts).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# Statement-level triggers aggregate each statement's transition table once: a batch of 1,000 events costs one
# upsert per (pipeline, hour, table, type), not 1,000 row-level calls. Counted: CDC rows with deleted_at IS NULL.
ADD_COUNTS = """
INSERT INTO pipeline_event_totals AS t (pipeline_id, table_name, event_type, events, latency_sum_ms, latency_count,
                                        last_event_at)
SELECT pipeline_id, coalesce(table_name, ''), event_type, {sign} * count(*), {sign} * coalesce(sum(latency_ms), 0),
       {sign} * count(latency_ms), max(started_at)
FROM {rows} WHERE run_type = 'CDC' AND event_type IS NOT NULL
GROUP BY 1, 2, 3
ON CONFLICT (pipeline_id, table_name, event_type) DO UPDATE SET events = t.events + excluded.events,
    latency_sum_ms = t.latency_sum_ms + excluded.latency_sum_ms,
    latency_count = t.latency_count + excluded.latency_count,
    last_event_at = CASE WHEN {sign} > 0 THEN greatest(t.last_event_at, excluded.last_event_at)
                         ELSE t.last_event_at END;
INSERT INTO pipeline_event_rollups AS r (pipeline_id, bucket, table_name, event_type, events, latency_sum_ms,
                                         latency_count)
SELECT pipeline_id, date_trunc('hour', started_at), coalesce(table_name, ''), event_type, {sign} * count(*),
       {sign} * coalesce(sum(latency_ms), 0), {sign} * count(latency_ms)
FROM {rows} WHERE run_type = 'CDC' AND event_type IS NOT NULL
GROUP BY 1, 2, 3, 4
ON CONFLICT (pipeline_id, bucket, table_name, event_type) DO UPDATE SET events = r.events + excluded.events,
    latency_sum_ms = r.latency_sum_ms + excluded.latency_sum_ms,
    latency_count = r.latency_count + excluded.latency_count;
INSERT INTO pipeline_event_minutes AS m (pipeline_id, minute, event_type, events, latency_sum_ms, latency_count)
SELECT pipeline_id, date_trunc('minute', started_at), event_type, {sign} * count(*),
       {sign} * coalesce(sum(latency_ms), 0), {sign} * count(latency_ms)
FROM {rows} WHERE run_type = 'CDC' AND event_type IS NOT NULL AND started_at > now() - interval '8 days'
GROUP BY 1, 2, 3
ON CONFLICT (pipeline_id, minute, event_type) DO UPDATE SET events = m.events + excluded.events,
    latency_sum_ms = m.latency_sum_ms + excluded.latency_sum_ms,
    latency_count = m.latency_count + excluded.latency_count;
"""

FUNCTIONS = {
    # New live rows are counted.
    "cdcflow_count_inserted": ADD_COUNTS.format(
        sign="1", rows="(SELECT * FROM new_rows WHERE deleted_at IS NULL) s"),
    # A soft delete (deleted_at NULL -> set) uncounts; an undelete counts again.
    "cdcflow_count_updated": ADD_COUNTS.format(
        sign="-1", rows="(SELECT o.* FROM old_rows o JOIN new_rows n ON n.id = o.id "
                        "WHERE o.deleted_at IS NULL AND n.deleted_at IS NOT NULL) s")
    + ADD_COUNTS.format(
        sign="1", rows="(SELECT n.* FROM old_rows o JOIN new_rows n ON n.id = o.id "
                       "WHERE o.deleted_at IS NOT NULL AND n.deleted_at IS NULL) s"),
    # A purge of live rows uncounts them.
    "cdcflow_count_deleted": ADD_COUNTS.format(
        sign="-1", rows="(SELECT * FROM old_rows WHERE deleted_at IS NULL) s"),
}

TRIGGERS = {
    "pipeline_runs_count_insert": ("INSERT", "NEW TABLE AS new_rows", "cdcflow_count_inserted"),
    "pipeline_runs_count_update": ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows", "cdcflow_count_updated"),
    "pipeline_runs_count_delete": ("DELETE", "OLD TABLE AS old_rows", "cdcflow_count_deleted"),
}


def upgrade() -> None:
    op.create_table(
        "pipeline_event_totals",
        sa.Column("pipeline_id", sa.UUID(), nullable=False),
        sa.Column("table_name", sa.String(length=130), nullable=False),
        sa.Column("event_type", sa.String(length=16), nullable=False),
        sa.Column("events", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("latency_sum_ms", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("latency_count", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("last_event_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["pipeline_id"], ["pipelines.id"],
                                name=op.f("fk_pipeline_event_totals_pipeline_id_pipelines")),
        sa.PrimaryKeyConstraint("pipeline_id", "table_name", "event_type", name=op.f("pk_pipeline_event_totals")),
    )
    op.create_table(
        "pipeline_event_minutes",
        sa.Column("pipeline_id", sa.UUID(), nullable=False),
        sa.Column("minute", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event_type", sa.String(length=16), nullable=False),
        sa.Column("events", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("latency_sum_ms", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("latency_count", sa.BigInteger(), nullable=False, server_default="0"),
        sa.ForeignKeyConstraint(["pipeline_id"], ["pipelines.id"],
                                name=op.f("fk_pipeline_event_minutes_pipeline_id_pipelines")),
        sa.PrimaryKeyConstraint("pipeline_id", "minute", "event_type", name=op.f("pk_pipeline_event_minutes")),
    )
    op.create_table(
        "pipeline_event_rollups",
        sa.Column("pipeline_id", sa.UUID(), nullable=False),
        sa.Column("bucket", sa.DateTime(timezone=True), nullable=False),
        sa.Column("table_name", sa.String(length=130), nullable=False),
        sa.Column("event_type", sa.String(length=16), nullable=False),
        sa.Column("events", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("latency_sum_ms", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("latency_count", sa.BigInteger(), nullable=False, server_default="0"),
        sa.ForeignKeyConstraint(["pipeline_id"], ["pipelines.id"], name=op.f("fk_pipeline_event_rollups_pipeline_id_pipelines")),
        sa.PrimaryKeyConstraint("pipeline_id", "bucket", "table_name", "event_type", name=op.f("pk_pipeline_event_rollups")),
    )
    for name, body in FUNCTIONS.items():
        op.execute(f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $fn$ BEGIN {body} RETURN NULL; "
                   f"END $fn$")
    for name, (event, referencing, function) in TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} AFTER {event} ON pipeline_runs REFERENCING {referencing} "
                   f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()")
    # Events stored before this migration are counted once, here.
    op.execute(ADD_COUNTS.format(sign="1", rows="(SELECT * FROM pipeline_runs WHERE deleted_at IS NULL) s"))


def downgrade() -> None:
    for name in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name} ON pipeline_runs")
    for name in FUNCTIONS:
        op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    op.drop_table("pipeline_event_minutes")
    op.drop_table("pipeline_event_rollups")
    op.drop_table("pipeline_event_totals")
