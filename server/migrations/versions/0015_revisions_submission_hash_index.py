"""Revisions found by their submission through a hash index on PostgreSQL

Nothing reads ``submission_revisions.submission_id`` but by equality: a submission's history, and the first
receipt of some submissions. Its ids are random, so each pushed revision lands on a random page of that
index. As a B-tree it took 73 MB at 1,000,000 revisions, and PostgreSQL's buffers (128 MB by default) could
not hold it beside the ledger's, the heads' and the revisions' own keys: a push read and wrote back pages of
all four. A hash index of the same ids takes 32 MB. SQLite keeps its B-tree.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 21:10:00

"""
from alembic import op


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

INDEX = 'ix_submission_revisions_submission_id'


def _rebuild(using: str) -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.drop_index(INDEX, table_name='submission_revisions')
    op.create_index(INDEX, 'submission_revisions', ['submission_id'], unique=False, postgresql_using=using)


def upgrade():
    _rebuild('hash')


def downgrade():
    _rebuild('btree')
