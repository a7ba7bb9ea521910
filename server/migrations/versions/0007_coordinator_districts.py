"""Coordinator districts: which districts each coordinator's console shows

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 12:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('coordinator_districts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['district_id'], ['districts.id'],
                            name=op.f('fk_coordinator_districts_district_id_districts')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_coordinator_districts_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coordinator_districts')),
    sa.UniqueConstraint('user_id', 'district_id', name='uq_coordinator_districts_user_district')
    )
    with op.batch_alter_table('coordinator_districts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_coordinator_districts_district_id'), ['district_id'], unique=False)


def downgrade():
    with op.batch_alter_table('coordinator_districts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_coordinator_districts_district_id'))
    op.drop_table('coordinator_districts')
