"""Round plans: the next round's sample proposed, edited and approved, with its selected communes

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 20:15:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
_APPROVED = sa.text("status = 'approved'")


def upgrade():
    op.create_table('round_plans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('based_on', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('plan', _JSON, nullable=False),
    sa.Column('parameters', _JSON, nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('proposed_by_user_id', sa.Integer(), nullable=True),
    sa.Column('proposed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('approved_by_user_id', sa.Integer(), nullable=True),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('superseded_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('draft', 'approved', 'superseded')", name=op.f('ck_round_plans_status')),
    sa.ForeignKeyConstraint(['approved_by_user_id'], ['users.id'],
                            name=op.f('fk_round_plans_approved_by_user_id_users')),
    sa.ForeignKeyConstraint(['proposed_by_user_id'], ['users.id'],
                            name=op.f('fk_round_plans_proposed_by_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_round_plans'))
    )
    with op.batch_alter_table('round_plans', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_round_plans_year'), ['year'], unique=False)
        batch_op.create_index('uq_round_plans_approved_year', ['year'], unique=True,
                              sqlite_where=_APPROVED, postgresql_where=_APPROVED)

    op.create_table('round_plan_communes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_plan_id', sa.Integer(), nullable=False),
    sa.Column('commune_id', sa.Integer(), nullable=False),
    sa.Column('pi', sa.Double(), nullable=False),
    sa.Column('certainty', sa.Boolean(), nullable=False),
    sa.Column('take', sa.Integer(), nullable=False),
    sa.Column('enumerator_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('pi > 0 AND pi <= 1', name=op.f('ck_round_plan_communes_pi')),
    sa.CheckConstraint('take >= 1', name=op.f('ck_round_plan_communes_take')),
    sa.ForeignKeyConstraint(['commune_id'], ['communes.id'],
                            name=op.f('fk_round_plan_communes_commune_id_communes')),
    sa.ForeignKeyConstraint(['enumerator_id'], ['users.id'],
                            name=op.f('fk_round_plan_communes_enumerator_id_users')),
    sa.ForeignKeyConstraint(['round_plan_id'], ['round_plans.id'],
                            name=op.f('fk_round_plan_communes_round_plan_id_round_plans')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_round_plan_communes')),
    sa.UniqueConstraint('round_plan_id', 'commune_id', name='uq_round_plan_communes_plan_commune')
    )
    with op.batch_alter_table('round_plan_communes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_round_plan_communes_commune_id'), ['commune_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_round_plan_communes_enumerator_id'), ['enumerator_id'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('round_plan_communes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_round_plan_communes_enumerator_id'))
        batch_op.drop_index(batch_op.f('ix_round_plan_communes_commune_id'))

    op.drop_table('round_plan_communes')
    with op.batch_alter_table('round_plans', schema=None) as batch_op:
        batch_op.drop_index('uq_round_plans_approved_year')
        batch_op.drop_index(batch_op.f('ix_round_plans_year'))

    op.drop_table('round_plans')
