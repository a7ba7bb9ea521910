"""Blob uploads per device: each device's unfinished upload of an attachment, with its own size and chunks

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 20:50:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('blob_uploads',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('device_id', sa.Uuid(), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('received', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['device_id'], ['devices.id'], name=op.f('fk_blob_uploads_device_id_devices')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_blob_uploads')),
    sa.UniqueConstraint('sha256', 'device_id', name='uq_blob_uploads_sha256_device_id')
    )
    with op.batch_alter_table('blob_uploads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_blob_uploads_device_id'), ['device_id'], unique=False)

    op.create_table('blob_upload_chunks',
    sa.Column('upload_id', sa.Integer(), nullable=False),
    sa.Column('offset', sa.BigInteger(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['upload_id'], ['blob_uploads.id'],
                            name=op.f('fk_blob_upload_chunks_upload_id_blob_uploads'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('upload_id', 'offset', name=op.f('pk_blob_upload_chunks'))
    )
    # Unfinished blobs of the shared-upload days stay where they are: readers call them incomplete, and
    # the first device upload to complete replaces them. Their devices resume from offset 0 (a device's
    # HEAD now asks for its own upload), which they can: a device keeps a file until the server has it.


def downgrade():
    op.drop_table('blob_upload_chunks')
    with op.batch_alter_table('blob_uploads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_blob_uploads_device_id'))
    op.drop_table('blob_uploads')
