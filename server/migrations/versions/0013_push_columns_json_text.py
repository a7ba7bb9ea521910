"""Push path: answers, ledger results and analysis extras as JSON text on PostgreSQL (json, not jsonb)

Every push writes these and no query looks inside them; PostgreSQL turning each into jsonb cost about 10 µs of
its CPU a submission. SQLite stores JSON as text already: nothing changes there.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 18:30:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

COLUMNS = [('sync_ops', 'result', False), ('submission_revisions', 'answers', True),
           ('submission_revisions', 'blobs', False), ('respondents', 'extra', True)]


def _retype(to_type, cast: str) -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    for table, column, nullable in COLUMNS:
        op.alter_column(table, column, type_=to_type, existing_nullable=nullable,
                        postgresql_using=f'{column}::{cast}')


def upgrade():
    _retype(sa.JSON(), 'json')


def downgrade():
    _retype(postgresql.JSONB(astext_type=sa.Text()), 'jsonb')
