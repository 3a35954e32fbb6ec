"""A lean event log: pipeline_runs as an append-heavy stream (see docs/architecture.md, "The event log's storage").

- One unique key for every CDC row, whatever the source: (pipeline_id, table_name, row_key, source_key). The source
  key hashes the change's identity (pipeline, position, transaction, table, op, key), so uniqueness on the four
  columns is uniqueness on the source key; leading with the row makes the same index one row's history (row_key is
  the Debezium key, a copy of run_metadata -> 'key'). It replaces three indexes: (source_lsn, source_key), which
  absorbed nothing for MariaDB (no LSN: NULLs never conflict), the Kafka coordinates, and the jsonb expression index
  of row history. An event without a source position gets a key from its Kafka coordinates (md5 of
  "topic|partition|offset", as events/parser.py computes it), so a batch read twice is absorbed by the same index.
- (pipeline_id, table_name, id DESC) is dropped: a table-filtered event list walks (pipeline_id, id DESC) or the
  identity index, whichever the planner finds cheaper; it cost 4 µs of PostgreSQL CPU per stored event.
- No foreign key to pipelines (pipelines are only soft-deleted; the counter tables keep theirs, checked per batch).
- Counters: the event logger counts each batch itself, in the batch's transaction (one statement per batch). The
  statement trigger stays for every other writer of CDC rows; a session that counts for itself sets
  cdcflow.events_counted = on, and the trigger returns at once.

Existing data: row_key and the Kafka-derived source keys are filled in; changes stored twice (possible only for
MariaDB, whose unique key never applied) are deleted, keeping the first copy; the delete trigger uncounts them.

Revision ID: 0016
Revises: 0015
"""

import importlib.util
from pathlib import Path

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

LIVE_CDC = "deleted_at IS NULL AND run_type = 'CDC'"

# The insert trigger of migration 0003, returning at once for a writer that counts its batches itself.
COUNT_INSERTED = "cdcflow_count_inserted"


def _insert_trigger_body(skip_counted: bool) -> str:
    spec = importlib.util.spec_from_file_location("counters_0003", Path(__file__).with_name("0003_event_counters.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    body = module.FUNCTIONS[COUNT_INSERTED]
    guard = ("IF current_setting('cdcflow.events_counted', true) = 'on' THEN RETURN NULL; END IF; "
             if skip_counted else "")
    return (f"CREATE OR REPLACE FUNCTION {COUNT_INSERTED}() RETURNS trigger LANGUAGE plpgsql AS $fn$ BEGIN "
            f"{guard}{body} RETURN NULL; END $fn$")


def upgrade() -> None:
    op.execute("ALTER TABLE pipeline_runs ADD COLUMN row_key jsonb")
    op.execute("ALTER TABLE pipeline_runs DROP CONSTRAINT IF EXISTS fk_pipeline_runs_pipeline_id_pipelines")
    op.execute("DROP INDEX IF EXISTS ix_pipeline_runs_row_history")
    op.execute("DROP INDEX IF EXISTS ix_pipeline_runs_pipeline_table")
    # The backfill changes no deleted_at: the soft-delete trigger would only copy every row into its transition tables.
    op.execute("ALTER TABLE pipeline_runs DISABLE TRIGGER pipeline_runs_count_update")
    op.execute("UPDATE pipeline_runs SET row_key = coalesce(run_metadata -> 'key', 'null'::jsonb), "
               "source_key = coalesce(source_key, md5(kafka_topic || '|' || kafka_partition || '|' || kafka_offset)"
               "::uuid) WHERE run_type = 'CDC'")
    op.execute("ALTER TABLE pipeline_runs ENABLE TRIGGER pipeline_runs_count_update")
    # A change stored more than once (MariaDB: the old key never applied): keep the first copy.
    op.execute("""
        DELETE FROM pipeline_runs r USING (
            SELECT id, row_number() OVER (PARTITION BY pipeline_id, table_name, row_key, source_key ORDER BY id) AS n
            FROM pipeline_runs WHERE source_key IS NOT NULL AND source_lsn IS NULL) d
        WHERE r.id = d.id AND d.n > 1""")
    op.execute("ALTER TABLE pipeline_runs DROP CONSTRAINT IF EXISTS "
               "uq_pipeline_runs_kafka_topic_kafka_partition_kafka_offset")
    op.execute("DROP INDEX IF EXISTS uq_pipeline_runs_source_lsn_source_key")
    op.execute("CREATE UNIQUE INDEX uq_pipeline_runs_event_identity ON pipeline_runs "
               "(pipeline_id, table_name, row_key, source_key)")
    op.execute(_insert_trigger_body(skip_counted=True))
    op.execute("ANALYZE pipeline_runs")


def downgrade() -> None:
    op.execute(_insert_trigger_body(skip_counted=False))
    op.execute("DROP INDEX IF EXISTS uq_pipeline_runs_event_identity")
    op.execute("UPDATE pipeline_runs SET source_key = NULL WHERE source_lsn IS NULL")
    op.execute("CREATE UNIQUE INDEX uq_pipeline_runs_source_lsn_source_key ON pipeline_runs (source_lsn, source_key) "
               "WHERE source_key IS NOT NULL")
    op.execute("ALTER TABLE pipeline_runs ADD CONSTRAINT uq_pipeline_runs_kafka_topic_kafka_partition_kafka_offset "
               "UNIQUE (kafka_topic, kafka_partition, kafka_offset)")
    op.execute(f"CREATE INDEX ix_pipeline_runs_pipeline_table ON pipeline_runs (pipeline_id, table_name, id DESC) "
               f"WHERE {LIVE_CDC}")
    op.execute(f"CREATE INDEX ix_pipeline_runs_row_history ON pipeline_runs "
               f"(pipeline_id, table_name, (run_metadata -> 'key'), id) WHERE {LIVE_CDC}")
    op.execute("ALTER TABLE pipeline_runs ADD CONSTRAINT fk_pipeline_runs_pipeline_id_pipelines "
               "FOREIGN KEY (pipeline_id) REFERENCES pipelines (id) NOT VALID")
    op.execute("ALTER TABLE pipeline_runs DROP COLUMN row_key")
