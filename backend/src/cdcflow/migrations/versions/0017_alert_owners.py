"""Alert channels and rules get an owner and grants, like pipelines and connections.

Existing rows go to the user who created them (by username), or to nobody (admins only) when that user is gone.
`resource_type` gains 'alert_channel' and 'alert_rule' for their grants.

Revision ID: 0017
Revises: 0015 (0016 is taken by another change in flight: when both are on main, this revises 0016)
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0017"
down_revision = "0015"
branch_labels = None
depends_on = None

TABLES = ("alert_channels", "alert_rules")


def upgrade() -> None:
    # PostgreSQL >= 12 adds an enum value inside a transaction; the values are only used by later transactions.
    op.execute("ALTER TYPE resource_type ADD VALUE IF NOT EXISTS 'alert_channel'")
    op.execute("ALTER TYPE resource_type ADD VALUE IF NOT EXISTS 'alert_rule'")
    for table in TABLES:
        op.add_column(table, sa.Column("owner_id", postgresql.UUID(as_uuid=True), nullable=True))
        op.create_foreign_key(f"fk_{table}_owner_id_users", table, "users", ["owner_id"], ["id"],
                              ondelete="SET NULL")
        op.create_index(f"ix_{table}_owner_id", table, ["owner_id"])
        op.execute(f"UPDATE {table} t SET owner_id = u.id FROM users u WHERE u.username = t.created_by")


def downgrade() -> None:
    op.execute("DELETE FROM resource_grants WHERE resource_type::text IN ('alert_channel', 'alert_rule')")
    for table in TABLES:
        op.drop_index(f"ix_{table}_owner_id", table_name=table)
        op.drop_constraint(f"fk_{table}_owner_id_users", table, type_="foreignkey")
        op.drop_column(table, "owner_id")
    # The two enum values stay (PostgreSQL cannot drop one without rebuilding the type); nothing uses them.
