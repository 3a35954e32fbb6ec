"""Row history: index the CDC events of one row by (pipeline, table, Debezium key), so a row's whole timeline is one
index range scan however many events the log holds.

Revision ID: 0013
Revises: 0012
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE INDEX IF NOT EXISTS ix_pipeline_runs_row_history ON pipeline_runs "
               "(pipeline_id, table_name, (run_metadata -> 'key'), id) "
               "WHERE deleted_at IS NULL AND run_type = 'CDC'")


def downgrade() -> None:
    op.drop_index("ix_pipeline_runs_row_history", table_name="pipeline_runs")
