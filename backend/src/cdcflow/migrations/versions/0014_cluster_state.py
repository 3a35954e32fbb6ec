"""Cluster state shared by every API process: the login limiter's counters (auth/throttle.py), so N processes
behind one load balancer limit logins as one.

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_throttle",
        # c:<address> | uc:<user>\x1f<address> | u:<user> | k:<user>\x1f<address> (a known address)
        sa.Column("key", sa.Text(), primary_key=True),
        # Failure times (epoch seconds, the database's clock), the newest max-failures only: sliding windows.
        sa.Column("times", postgresql.ARRAY(sa.Float()), nullable=False, server_default="{}"),
        # Failures and the last one: the per-username exponential backoff.
        sa.Column("failures", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_failure", sa.Float(), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_login_throttle_expires_at", "login_throttle", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_login_throttle_expires_at", table_name="login_throttle")
    op.drop_table("login_throttle")
