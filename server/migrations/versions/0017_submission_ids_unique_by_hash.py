"""Submission ids kept unique through a hash index on PostgreSQL: the heads'

After 0016, the heads' primary key was the last B-tree over a device's random ids (73 MB at 1,000,000 heads,
beside three hash indexes of 37 MB each, against PostgreSQL's default 128 MB of buffers): every created
submission landed on a random leaf of it. Nothing reads a head's id but by equality or a list of them (a
push's corrections, the console's and the reports' joins of heads to their places and revisions), so on
PostgreSQL it is kept unique by an exclusion constraint over a hash index (32 MB at 1,000,000), as the key
kept it, and the key goes: the seq, unique already, identifies a row. A duplicate id is refused with an
exclusion violation (SQLSTATE 23P01) where the key raised 23505; the store maps both alike. SQLite keeps its
key.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 03:00:00

"""
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.drop_constraint('pk_submissions', 'submissions', type_='primary')
    op.execute('ALTER TABLE submissions ADD CONSTRAINT ex_submissions_id EXCLUDE USING hash (id WITH =)')


def downgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.drop_constraint('ex_submissions_id', 'submissions')
    op.create_primary_key('pk_submissions', 'submissions', ['id'])
