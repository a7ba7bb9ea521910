"""Outreach plans: per year, rows of district × target group × channel with their communes; who approved

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 20:30:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('outreach_plans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('source_round', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_user_id', sa.Integer(), nullable=True),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('approved_by_user_id', sa.Integer(), nullable=True),
    sa.Column('approved_role', sa.String(length=20), nullable=True),
    sa.CheckConstraint("status IN ('draft', 'approved')", name=op.f('ck_outreach_plans_status')),
    sa.ForeignKeyConstraint(['approved_by_user_id'], ['users.id'],
                            name=op.f('fk_outreach_plans_approved_by_user_id_users')),
    sa.ForeignKeyConstraint(['created_by_user_id'], ['users.id'],
                            name=op.f('fk_outreach_plans_created_by_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outreach_plans')),
    sa.UniqueConstraint('year', name=op.f('uq_outreach_plans_year'))
    )
    op.create_table('outreach_plan_rows',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('district_code', sa.String(length=16), nullable=False),
    sa.Column('target_group', sa.String(length=60), nullable=False),
    sa.Column('channel', sa.String(length=40), nullable=False),
    sa.Column('communes', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'),
              nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('reason_vi', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['plan_id'], ['outreach_plans.id'],
                            name=op.f('fk_outreach_plan_rows_plan_id_outreach_plans'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outreach_plan_rows'))
    )
    op.create_index(op.f('ix_outreach_plan_rows_plan_id'), 'outreach_plan_rows', ['plan_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_outreach_plan_rows_plan_id'), table_name='outreach_plan_rows')
    op.drop_table('outreach_plan_rows')
    op.drop_table('outreach_plans')
