"""MariaDB connections: 'mariadb' joins the database_type enum.

Revision ID: 0015
Revises: 0014
"""

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # PostgreSQL >= 12 adds an enum value inside a transaction; the value is only used by later transactions.
    op.execute("ALTER TYPE database_type ADD VALUE IF NOT EXISTS 'mariadb'")


def downgrade() -> None:
    # An enum value cannot be dropped: rebuild the type without it, refusing while MariaDB connections exist.
    op.execute("""
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM connections WHERE database_type = 'mariadb') THEN
        RAISE EXCEPTION 'MariaDB connections exist: delete them before downgrading below 0015';
    END IF;
END $$;
ALTER TYPE database_type RENAME TO database_type_old;
CREATE TYPE database_type AS ENUM ('postgresql');
ALTER TABLE connections ALTER COLUMN database_type TYPE database_type USING database_type::text::database_type;
DROP TYPE database_type_old;
""")
