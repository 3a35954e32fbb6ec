"""Change events unique by their source identity (not only their Kafka offset), and per-pipeline WAL thresholds.

pipeline_runs.source_key is a 16-byte hash of (pipeline, LSN, transaction, table, op, key), written by the event
logger (events/parser.py). The unique index leads with source_lsn, which grows with the source's WAL, so inserts
land at the right edge of the index instead of at random places. Rows stored before this revision keep a NULL key
(full-load runs always do): NULLs never conflict, and those rows stay unique by their Kafka offset.

Revision ID: 0010
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0006"
branch_labels = None
depends_on = None

GIB = 1024 ** 3


def upgrade() -> None:
    op.add_column("pipeline_runs", sa.Column("source_key", sa.UUID(), nullable=True))
    op.create_index("uq_pipeline_runs_source_lsn_source_key", "pipeline_runs", ["source_lsn", "source_key"],
                    unique=True, postgresql_where=sa.text("source_key IS NOT NULL"))
    op.add_column("pipelines", sa.Column("wal_warning_bytes", sa.BigInteger(), nullable=False,
                                         server_default=str(GIB)))
    op.add_column("pipelines", sa.Column("wal_critical_bytes", sa.BigInteger(), nullable=False,
                                         server_default=str(10 * GIB)))
    op.create_check_constraint(op.f("ck_pipelines_wal_thresholds"), "pipelines",
                               "wal_warning_bytes > 0 AND wal_critical_bytes > wal_warning_bytes")


def downgrade() -> None:
    op.drop_constraint(op.f("ck_pipelines_wal_thresholds"), "pipelines", type_="check")
    op.drop_column("pipelines", "wal_critical_bytes")
    op.drop_column("pipelines", "wal_warning_bytes")
    op.drop_index("uq_pipeline_runs_source_lsn_source_key", table_name="pipeline_runs")
    op.drop_column("pipeline_runs", "source_key")
