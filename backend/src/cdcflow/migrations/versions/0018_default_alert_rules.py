"""Default alert rules: a fresh server watches what loses data or stops the product without anyone writing a rule.

- a pipeline in ERROR;
- a replication slot retaining more than 128 MiB of WAL (a stopped pipeline holds WAL until it is started or
  deleted; 128 MiB is long before the per-pipeline 1 GiB warning matters on a small disk);
- the event logger not running.

Owned by nobody (admins manage them), no channel attached: they fire into the Alerts page's history and firing
counts; an admin attaches a channel, changes the threshold, disables or deletes them. A rule an admin deleted is
not created again (this runs once).

Revision ID: 0018
Revises: 0017
"""

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

DEFAULTS = (
    ("Any pipeline in ERROR", "pipeline_error", None),
    ("Any slot retaining over 128 MiB of WAL", "retained_wal_bytes", 128 * 1024 * 1024),
    ("Event logger down", "event_logger_down", None),
)


def upgrade() -> None:
    for name, kind, threshold in DEFAULTS:
        op.execute(
            "INSERT INTO alert_rules (name, kind, pipeline_id, threshold, enabled, created_by) "
            f"SELECT '{name}', '{kind}', NULL, {'NULL' if threshold is None else threshold}, true, 'cdcflow' "
            f"WHERE NOT EXISTS (SELECT 1 FROM alert_rules WHERE kind = '{kind}' AND pipeline_id IS NULL) "
            "ON CONFLICT (name) DO NOTHING")


def downgrade() -> None:
    for name, kind, _ in DEFAULTS:
        op.execute(f"DELETE FROM alert_rules WHERE name = '{name}' AND created_by = 'cdcflow'")
