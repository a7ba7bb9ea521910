"""Assignments: communes and quotas of each enumerator per survey round

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 18:25:46

"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('assignments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('commune_id', sa.Integer(), nullable=False),
    sa.Column('quota', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('quota >= 1', name=op.f('ck_assignments_quota')),
    sa.ForeignKeyConstraint(['commune_id'], ['communes.id'], name=op.f('fk_assignments_commune_id_communes')),
    sa.ForeignKeyConstraint(['round_id'], ['rounds.id'], name=op.f('fk_assignments_round_id_rounds')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_assignments_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assignments')),
    sa.UniqueConstraint('user_id', 'round_id', 'commune_id', name='uq_assignments_user_round_commune')
    )
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assignments_commune_id'), ['commune_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_assignments_round_id'), ['round_id'], unique=False)


def downgrade():
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assignments_round_id'))
        batch_op.drop_index(batch_op.f('ix_assignments_commune_id'))

    op.drop_table('assignments')
