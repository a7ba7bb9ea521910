"""Console: submission places for SQL filtering; when a bearer token's use was last audited

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 15:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    # Rows are filled by the console on first use (server.console.places), so none are copied here.
    op.create_table('submission_places',
    sa.Column('submission_id', sa.String(length=64), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('district', sa.String(length=100), nullable=True),
    sa.Column('commune', sa.String(length=100), nullable=True),
    sa.Column('round', sa.Integer(), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('received_day', sa.String(length=10), nullable=False),
    sa.PrimaryKeyConstraint('submission_id', name=op.f('pk_submission_places'))
    )
    with op.batch_alter_table('submission_places', schema=None) as batch_op:
        batch_op.create_index('ix_submission_places_district_round', ['district', 'round'], unique=False)
        batch_op.create_index(batch_op.f('ix_submission_places_received_day'), ['received_day'], unique=False)
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('use_logged_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_column('use_logged_at')
    with op.batch_alter_table('submission_places', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_submission_places_received_day'))
        batch_op.drop_index('ix_submission_places_district_round')
    op.drop_table('submission_places')
