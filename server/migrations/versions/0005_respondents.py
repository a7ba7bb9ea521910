"""Respondents: analysis-ready rows of scored submissions (profile, design, item points)

Filled by the sync store as submissions arrive; existing submissions are indexed by
``flask --app server report reindex``.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 18:46:56

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('respondents',
    sa.Column('submission_id', sa.String(length=64), nullable=False),
    sa.Column('form_id', sa.String(length=100), nullable=False),
    sa.Column('form_version', sa.String(length=100), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('round', sa.Integer(), nullable=True),
    sa.Column('district_code', sa.String(length=100), nullable=True),
    sa.Column('commune_key', sa.String(length=100), nullable=True),
    sa.Column('consented', sa.Boolean(), nullable=False),
    sa.Column('sex', sa.String(length=100), nullable=True),
    sa.Column('age', sa.Integer(), nullable=True),
    sa.Column('marital', sa.String(length=100), nullable=True),
    sa.Column('education', sa.String(length=100), nullable=True),
    sa.Column('occupation', sa.String(length=100), nullable=True),
    sa.Column('plan_away', sa.String(length=100), nullable=True),
    sa.Column('plan_abroad', sa.String(length=100), nullable=True),
    sa.Column('heard_any', sa.String(length=100), nullable=True),
    sa.Column('channel_main', sa.String(length=100), nullable=True),
    sa.Column('extra', sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('points', sa.LargeBinary(), nullable=False),
    sa.Column('choices', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('submission_id', name=op.f('pk_respondents'))
    )
    with op.batch_alter_table('respondents', schema=None) as batch_op:
        batch_op.create_index('ix_respondents_form_version', ['form_id', 'form_version', 'round'], unique=False)


def downgrade():
    with op.batch_alter_table('respondents', schema=None) as batch_op:
        batch_op.drop_index('ix_respondents_form_version')

    op.drop_table('respondents')
