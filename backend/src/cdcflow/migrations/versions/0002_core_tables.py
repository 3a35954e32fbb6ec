"""Core tables: users, refresh tokens, audit log, connections, pipelines, pipeline tables, pipeline runs.

Revision ID: 0002
Revises: 0001
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_log',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('target', sa.String(length=128), nullable=True),
    sa.Column('client_ip', sa.String(length=64), nullable=True),
    sa.Column('details', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    op.create_index('ix_audit_log_at', 'audit_log', ['at'], unique=False)
    op.create_index('ix_audit_log_target', 'audit_log', ['target'], unique=False)
    op.create_table('connections',
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('connection_type', sa.Enum('source', 'target', name='connection_type'), nullable=False),
    sa.Column('database_type', sa.Enum('postgresql', name='database_type'), nullable=False),
    sa.Column('host', sa.String(length=255), nullable=False),
    sa.Column('port', sa.Integer(), nullable=False),
    sa.Column('database', sa.String(length=63), nullable=False),
    sa.Column('username', sa.String(length=63), nullable=False),
    sa.Column('password_encrypted', sa.Text(), nullable=False),
    sa.Column('schema', sa.String(length=63), server_default='public', nullable=False),
    sa.Column('options', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_connections'))
    )
    op.create_index('uq_connections_name_live', 'connections', ['name'], unique=True, postgresql_where=sa.text('deleted_at IS NULL'))
    op.create_table('users',
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('password_hash', sa.String(length=128), nullable=False),
    sa.Column('role', sa.Enum('admin', 'operator', 'viewer', name='user_role'), nullable=False),
    sa.Column('active', sa.Boolean(), server_default='true', nullable=False),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    op.create_table('pipelines',
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('source_connection_id', sa.UUID(), nullable=False),
    sa.Column('target_connection_id', sa.UUID(), nullable=False),
    sa.Column('mode', sa.Enum('full_load_only', 'cdc_only', 'full_load_and_cdc', name='pipeline_mode'), nullable=False),
    sa.Column('status', sa.Enum('NOT_STARTED', 'STARTING', 'RUNNING', 'PAUSED', 'STOPPING', 'STOPPED', 'ERROR', name='pipeline_status'), server_default='NOT_STARTED', nullable=False),
    sa.Column('full_load_status', sa.Enum('NOT_STARTED', 'RUNNING', 'COMPLETED', 'FAILED', 'SKIPPED', name='full_load_status'), server_default='NOT_STARTED', nullable=False),
    sa.Column('cdc_status', sa.Enum('NOT_STARTED', 'STARTING', 'RUNNING', 'PAUSED', 'STOPPED', 'ERROR', name='cdc_status'), server_default='NOT_STARTED', nullable=False),
    sa.Column('debezium_connector_name', sa.String(length=255), nullable=True),
    sa.Column('sink_connector_name', sa.String(length=255), nullable=True),
    sa.Column('kafka_topics', postgresql.JSONB(astext_type=sa.Text()), server_default='[]', nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=True),
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['source_connection_id'], ['connections.id'], name=op.f('fk_pipelines_source_connection_id_connections')),
    sa.ForeignKeyConstraint(['target_connection_id'], ['connections.id'], name=op.f('fk_pipelines_target_connection_id_connections')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pipelines'))
    )
    op.create_index(op.f('ix_pipelines_source_connection_id'), 'pipelines', ['source_connection_id'], unique=False)
    op.create_index(op.f('ix_pipelines_target_connection_id'), 'pipelines', ['target_connection_id'], unique=False)
    op.create_index('uq_pipelines_name_live', 'pipelines', ['name'], unique=True, postgresql_where=sa.text('deleted_at IS NULL'))
    op.create_table('refresh_tokens',
    sa.Column('user_id', sa.UUID(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('family_id', sa.UUID(), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_refresh_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_refresh_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_refresh_tokens_token_hash'))
    )
    op.create_index('ix_refresh_tokens_family_id', 'refresh_tokens', ['family_id'], unique=False)
    op.create_index(op.f('ix_refresh_tokens_user_id'), 'refresh_tokens', ['user_id'], unique=False)
    op.create_table('pipeline_runs',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('pipeline_id', sa.UUID(), nullable=False),
    sa.Column('run_type', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('event_type', sa.String(length=16), nullable=True),
    sa.Column('table_name', sa.String(length=130), nullable=True),
    sa.Column('source_lsn', sa.BigInteger(), nullable=True),
    sa.Column('latency_ms', sa.Integer(), nullable=True),
    sa.Column('kafka_topic', sa.String(length=255), nullable=True),
    sa.Column('kafka_partition', sa.Integer(), nullable=True),
    sa.Column('kafka_offset', sa.BigInteger(), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('run_metadata', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['pipeline_id'], ['pipelines.id'], name=op.f('fk_pipeline_runs_pipeline_id_pipelines')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pipeline_runs')),
    sa.UniqueConstraint('kafka_topic', 'kafka_partition', 'kafka_offset', name=op.f('uq_pipeline_runs_kafka_topic_kafka_partition_kafka_offset'))
    )
    op.create_index('ix_pipeline_runs_full_load', 'pipeline_runs', ['pipeline_id', 'started_at'], unique=False, postgresql_where=sa.text("run_type = 'FULL_LOAD'"))
    op.create_index('ix_pipeline_runs_pipeline_recent', 'pipeline_runs', ['pipeline_id', sa.literal_column('id DESC')], unique=False, postgresql_where=sa.text('deleted_at IS NULL'))
    op.create_index('ix_pipeline_runs_pipeline_table', 'pipeline_runs', ['pipeline_id', 'table_name', sa.literal_column('id DESC')], unique=False, postgresql_where=sa.text('deleted_at IS NULL'))
    op.create_index('ix_pipeline_runs_started_at_brin', 'pipeline_runs', ['started_at'], unique=False, postgresql_using='brin')
    op.create_table('pipeline_tables',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('pipeline_id', sa.UUID(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('schema_name', sa.String(length=63), nullable=False),
    sa.Column('table_name', sa.String(length=63), nullable=False),
    sa.Column('state', sa.String(length=16), server_default='PENDING', nullable=False),
    sa.Column('rows_copied', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('rows_estimated', sa.BigInteger(), nullable=True),
    sa.Column('bytes_copied', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['pipeline_id'], ['pipelines.id'], name=op.f('fk_pipeline_tables_pipeline_id_pipelines'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pipeline_tables')),
    sa.UniqueConstraint('pipeline_id', 'schema_name', 'table_name', name=op.f('uq_pipeline_tables_pipeline_id_schema_name_table_name'))
    )


def downgrade() -> None:
    op.drop_table('pipeline_tables')
    op.drop_index('ix_pipeline_runs_started_at_brin', table_name='pipeline_runs', postgresql_using='brin')
    op.drop_index('ix_pipeline_runs_pipeline_table', table_name='pipeline_runs', postgresql_where=sa.text('deleted_at IS NULL'))
    op.drop_index('ix_pipeline_runs_pipeline_recent', table_name='pipeline_runs', postgresql_where=sa.text('deleted_at IS NULL'))
    op.drop_index('ix_pipeline_runs_full_load', table_name='pipeline_runs', postgresql_where=sa.text("run_type = 'FULL_LOAD'"))
    op.drop_table('pipeline_runs')
    op.drop_index(op.f('ix_refresh_tokens_user_id'), table_name='refresh_tokens')
    op.drop_index('ix_refresh_tokens_family_id', table_name='refresh_tokens')
    op.drop_table('refresh_tokens')
    op.drop_index('uq_pipelines_name_live', table_name='pipelines', postgresql_where=sa.text('deleted_at IS NULL'))
    op.drop_index(op.f('ix_pipelines_target_connection_id'), table_name='pipelines')
    op.drop_index(op.f('ix_pipelines_source_connection_id'), table_name='pipelines')
    op.drop_table('pipelines')
    op.drop_table('users')
    op.drop_index('uq_connections_name_live', table_name='connections', postgresql_where=sa.text('deleted_at IS NULL'))
    op.drop_table('connections')
    op.drop_index('ix_audit_log_target', table_name='audit_log')
    op.drop_index('ix_audit_log_at', table_name='audit_log')
    op.drop_table('audit_log')
    for enum_name in ('cdc_status', 'full_load_status', 'pipeline_status', 'pipeline_mode', 'user_role',
                      'database_type', 'connection_type'):
        op.execute(f'DROP TYPE IF EXISTS {enum_name}')
