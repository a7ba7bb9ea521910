"""Sync: ledger, revisions, quarantine, conflicts, pull buckets, blobs, server epoch

The foundation's ``submissions`` and ``quarantined_submissions`` tables are replaced by the sync
engine's shapes. No version of Ferry wrote to them before this revision, so they are dropped and
created anew rather than altered.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 18:15:00

"""
import uuid

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.drop_table('quarantined_submissions')
    op.drop_table('submissions')
    op.create_table('bucket_changes',
    sa.Column('bucket', sa.String(length=200), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('data', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('bucket', 'key', name=op.f('pk_bucket_changes')),
    sa.UniqueConstraint('seq', name=op.f('uq_bucket_changes_seq'))
    )
    with op.batch_alter_table('bucket_changes', schema=None) as batch_op:
        batch_op.create_index('ix_bucket_changes_bucket_seq', ['bucket', 'seq'], unique=False)

    op.create_table('bucket_horizons',
    sa.Column('bucket', sa.String(length=200), nullable=False),
    sa.Column('horizon', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('bucket', name=op.f('pk_bucket_horizons'))
    )
    op.create_table('device_sync',
    sa.Column('device_id', sa.String(length=64), nullable=False),
    sa.Column('epoch', sa.String(length=64), nullable=True),
    sa.Column('last_op', sa.String(length=64), nullable=True),
    sa.Column('last_n', sa.BigInteger(), nullable=True),
    sa.Column('clock_skew_s', sa.BigInteger(), nullable=True),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('device_id', name=op.f('pk_device_sync'))
    )
    op.create_table('quarantined_submissions',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('op_id', sa.String(length=64), nullable=False),
    sa.Column('device_id', sa.String(length=64), nullable=False),
    sa.Column('reason', sa.String(length=60), nullable=False),
    sa.Column('issues', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('payload', sa.LargeBinary(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('submission_id', sa.String(length=64), nullable=True),
    sa.Column('form_id', sa.String(length=100), nullable=True),
    sa.Column('form_version', sa.String(length=100), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolution', sa.String(length=200), nullable=True),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_quarantined_submissions')),
    sa.UniqueConstraint('seq', name=op.f('uq_quarantined_submissions_seq'))
    )
    with op.batch_alter_table('quarantined_submissions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quarantined_submissions_device_id'), ['device_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_quarantined_submissions_submission_id'), ['submission_id'], unique=False)

    op.create_table('server_state',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('epoch', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_server_state'))
    )
    op.create_table('submission_conflicts',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('submission_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('revisions', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_submission_conflicts')),
    sa.UniqueConstraint('seq', name=op.f('uq_submission_conflicts_seq'))
    )
    with op.batch_alter_table('submission_conflicts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_submission_conflicts_submission_id'), ['submission_id'], unique=False)

    op.create_table('submission_revisions',
    sa.Column('op_id', sa.String(length=64), nullable=False),
    sa.Column('submission_id', sa.String(length=64), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('device_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('base', sa.String(length=64), nullable=True),
    sa.Column('form_id', sa.String(length=100), nullable=False),
    sa.Column('form_version', sa.String(length=100), nullable=False),
    sa.Column('answers', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('device_time', sa.String(length=40), nullable=True),
    sa.Column('skew_s', sa.BigInteger(), nullable=True),
    sa.Column('blobs', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('op_id', name=op.f('pk_submission_revisions')),
    sa.UniqueConstraint('seq', name=op.f('uq_submission_revisions_seq'))
    )
    with op.batch_alter_table('submission_revisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_submission_revisions_submission_id'), ['submission_id'], unique=False)

    op.create_table('submissions',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('form_id', sa.String(length=100), nullable=False),
    sa.Column('form_version', sa.String(length=100), nullable=False),
    sa.Column('device_id', sa.String(length=64), nullable=False),
    sa.Column('head', sa.String(length=64), nullable=False),
    sa.Column('revisions', sa.Integer(), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_submissions')),
    sa.UniqueConstraint('seq', name=op.f('uq_submissions_seq'))
    )
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_submissions_device_id'), ['device_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_submissions_form_id'), ['form_id'], unique=False)

    op.create_table('sync_ops',
    sa.Column('op_id', sa.String(length=64), nullable=False),
    sa.Column('device_id', sa.String(length=64), nullable=False),
    sa.Column('payload_hash', sa.String(length=64), nullable=False),
    sa.Column('result', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('op_id', name=op.f('pk_sync_ops')),
    sa.UniqueConstraint('seq', name=op.f('uq_sync_ops_seq'))
    )
    with op.batch_alter_table('sync_ops', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sync_ops_device_id'), ['device_id'], unique=False)


    op.create_table('blob_chunks',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('offset', sa.BigInteger(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('sha256', 'offset', name=op.f('pk_blob_chunks'))
    )
    op.create_table('blobs',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('received', sa.BigInteger(), nullable=False),
    sa.Column('complete', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('sha256', name=op.f('pk_blobs'))
    )
    # A new database gets a new epoch: devices that synced with another one re-send their archive.
    server_state = sa.table('server_state', sa.column('id', sa.Integer), sa.column('epoch', sa.String))
    op.bulk_insert(server_state, [{'id': 1, 'epoch': uuid.uuid4().hex}])
    counters = sa.table('counters', sa.column('name', sa.String), sa.column('value', sa.BigInteger))
    op.execute(sa.delete(counters).where(counters.c.name == 'changes'))
    op.bulk_insert(counters, [{'name': 'changes', 'value': 0}])


def downgrade():
    op.drop_table('blob_chunks')
    op.drop_table('blobs')
    op.drop_table('bucket_horizons')
    op.drop_table('bucket_changes')
    op.drop_table('submission_conflicts')
    op.drop_table('quarantined_submissions')
    op.drop_table('submission_revisions')
    op.drop_table('submissions')
    op.drop_table('sync_ops')
    op.drop_table('device_sync')
    op.drop_table('server_state')
    # The foundation shapes of the two tables, as revision 0001 created them.
    op.create_table('quarantined_submissions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Uuid(), nullable=True),
    sa.Column('form_id', sa.String(length=100), nullable=True),
    sa.Column('form_version', sa.String(length=100), nullable=True),
    sa.Column('device_id', sa.Uuid(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=60), nullable=False),
    sa.Column('issues', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('payload', sa.LargeBinary(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['device_id'], ['devices.id'], name=op.f('fk_quarantined_submissions_device_id_devices')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_quarantined_submissions_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quarantined_submissions')),
    sa.UniqueConstraint('seq', name=op.f('uq_quarantined_submissions_seq'))
    )
    with op.batch_alter_table('quarantined_submissions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quarantined_submissions_device_id'), ['device_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_quarantined_submissions_submission_id'), ['submission_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_quarantined_submissions_user_id'), ['user_id'], unique=False)

    op.create_table('submissions',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('form_version_id', sa.Integer(), nullable=False),
    sa.Column('device_id', sa.Uuid(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('commune_id', sa.Integer(), nullable=True),
    sa.Column('round_id', sa.Integer(), nullable=True),
    sa.Column('answers', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('device_time', sa.DateTime(timezone=True), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['commune_id'], ['communes.id'], name=op.f('fk_submissions_commune_id_communes')),
    sa.ForeignKeyConstraint(['device_id'], ['devices.id'], name=op.f('fk_submissions_device_id_devices')),
    sa.ForeignKeyConstraint(['form_version_id'], ['form_versions.id'], name=op.f('fk_submissions_form_version_id_form_versions')),
    sa.ForeignKeyConstraint(['round_id'], ['rounds.id'], name=op.f('fk_submissions_round_id_rounds')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_submissions_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_submissions')),
    sa.UniqueConstraint('seq', name=op.f('uq_submissions_seq'))
    )
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_submissions_commune_id'), ['commune_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_submissions_device_id'), ['device_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_submissions_form_version_id'), ['form_version_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_submissions_round_id'), ['round_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_submissions_user_id'), ['user_id'], unique=False)
