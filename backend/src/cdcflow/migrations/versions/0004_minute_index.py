"""Index the minute buckets by time (rates across all pipelines), and narrow the per-pipeline event indexes to live
CDC rows, so "newest events of one pipeline" is an index-only walk even for a quiet pipeline.

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


LIVE_CDC = "deleted_at IS NULL AND run_type = 'CDC'"


def _recreate(predicate: str) -> None:
    op.drop_index("ix_pipeline_runs_pipeline_recent", table_name="pipeline_runs")
    op.drop_index("ix_pipeline_runs_pipeline_table", table_name="pipeline_runs")
    op.execute(f"CREATE INDEX ix_pipeline_runs_pipeline_recent ON pipeline_runs (pipeline_id, id DESC) "
               f"WHERE {predicate}")
    op.execute(f"CREATE INDEX ix_pipeline_runs_pipeline_table ON pipeline_runs (pipeline_id, table_name, id DESC) "
               f"WHERE {predicate}")


def upgrade() -> None:
    op.create_index("ix_pipeline_event_minutes_minute", "pipeline_event_minutes", ["minute"])
    _recreate(LIVE_CDC)


def downgrade() -> None:
    _recreate("deleted_at IS NULL")
    op.drop_index("ix_pipeline_event_minutes_minute", table_name="pipeline_event_minutes")
