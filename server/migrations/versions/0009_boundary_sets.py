"""Boundary sets: district and commune polygons an admin loaded for the map, with their attribution

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 15:40:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('boundary_sets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_list_id', sa.Integer(), nullable=False),
    sa.Column('attribution', sa.Text(), nullable=False),
    sa.Column('source_name', sa.String(length=200), nullable=False),
    sa.Column('loaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('loaded_by_user_id', sa.Integer(), nullable=True),
    sa.Column('shapes', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'),
              nullable=False),
    sa.Column('missing', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'),
              nullable=False),
    sa.ForeignKeyConstraint(['loaded_by_user_id'], ['users.id'],
                            name=op.f('fk_boundary_sets_loaded_by_user_id_users')),
    sa.ForeignKeyConstraint(['unit_list_id'], ['unit_lists.id'],
                            name=op.f('fk_boundary_sets_unit_list_id_unit_lists')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_boundary_sets')),
    sa.UniqueConstraint('unit_list_id', name=op.f('uq_boundary_sets_unit_list_id'))
    )


def downgrade():
    op.drop_table('boundary_sets')
