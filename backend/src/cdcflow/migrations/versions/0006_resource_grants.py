"""Resource-level permissions: an owner on every connection and pipeline, and per-user grants on them.

Existing rows get, as owner, the user who created them (pipelines.created_by; for connections the audit log's
connection.create entry) when that user still exists and is not a later account that reused the name; otherwise
the owner stays NULL, which means admins only. Nobody gains access they did not have as creator.

Revision ID: 0006
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

BACKFILL_PIPELINES = """
UPDATE pipelines p SET owner_id = u.id
FROM users u
WHERE u.username = p.created_by AND u.created_at <= p.created_at
"""

BACKFILL_CONNECTIONS = """
UPDATE connections c SET owner_id = u.id
FROM (SELECT DISTINCT ON (target) target, actor FROM audit_log
      WHERE action = 'connection.create' AND target LIKE 'connection:%'
      ORDER BY target, at) created
JOIN users u ON u.username = created.actor
WHERE created.target = 'connection:' || c.id::text AND u.created_at <= c.created_at
"""


def upgrade() -> None:
    for table in ("connections", "pipelines"):
        op.add_column(table, sa.Column("owner_id", sa.UUID(), nullable=True))
        op.create_foreign_key(op.f(f"fk_{table}_owner_id_users"), table, "users", ["owner_id"], ["id"],
                              ondelete="SET NULL")
        op.create_index(op.f(f"ix_{table}_owner_id"), table, ["owner_id"], unique=False)
    op.execute(BACKFILL_PIPELINES)
    op.execute(BACKFILL_CONNECTIONS)
    op.create_table(
        "resource_grants",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("resource_type", postgresql.ENUM("pipeline", "connection", name="resource_type"), nullable=False),
        sa.Column("resource_id", sa.UUID(), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("level", postgresql.ENUM("view", "operate", "manage", name="access_level"), nullable=False),
        sa.Column("granted_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_resource_grants_user_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resource_grants")),
        sa.UniqueConstraint("resource_type", "resource_id", "user_id",
                            name=op.f("uq_resource_grants_resource_type_resource_id_user_id")),
    )
    op.create_index("ix_resource_grants_user_id_resource_type", "resource_grants", ["user_id", "resource_type"])


def downgrade() -> None:
    op.drop_index("ix_resource_grants_user_id_resource_type", table_name="resource_grants")
    op.drop_table("resource_grants")
    op.execute("DROP TYPE access_level")
    op.execute("DROP TYPE resource_type")
    for table in ("pipelines", "connections"):
        op.drop_index(op.f(f"ix_{table}_owner_id"), table_name=table)
        op.drop_constraint(op.f(f"fk_{table}_owner_id_users"), table, type_="foreignkey")
        op.drop_column(table, "owner_id")
