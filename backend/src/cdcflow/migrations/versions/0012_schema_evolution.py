"""Schema changes and recovery: a schema change policy per pipeline, and per table what cdcflow knows of its source
definition (to tell an added column from a renamed one), the columns it ignores, and the state of a resync.

Revision ID: 0012
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

POLICY = postgresql.ENUM("propagate", "pause", "ignore", name="schema_change_policy", create_type=False)


def upgrade() -> None:
    POLICY.create(op.get_bind(), checkfirst=True)
    op.add_column("pipelines", sa.Column("schema_change_policy", POLICY, nullable=False,
                                         server_default="propagate"))
    op.add_column("pipelines", sa.Column("drop_removed_columns", sa.Boolean(), nullable=False,
                                         server_default=sa.false()))
    op.add_column("pipeline_tables", sa.Column("schema_state", postgresql.JSONB(), nullable=False,
                                               server_default="{}"))
    # Newest schema changes of one pipeline, for its page (the CDC indexes are partial and do not cover these).
    op.create_index("ix_pipeline_runs_schema_change", "pipeline_runs", ["pipeline_id", sa.text("id DESC")],
                    postgresql_where=sa.text("run_type = 'SCHEMA_CHANGE'"))


def downgrade() -> None:
    op.drop_index("ix_pipeline_runs_schema_change", table_name="pipeline_runs")
    op.drop_column("pipeline_tables", "schema_state")
    op.drop_column("pipelines", "drop_removed_columns")
    op.drop_column("pipelines", "schema_change_policy")
    POLICY.drop(op.get_bind(), checkfirst=True)
