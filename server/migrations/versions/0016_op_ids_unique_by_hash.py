"""Operation ids kept unique through hash indexes on PostgreSQL: the ledger's and the revisions'

Both tables were keyed by the operation id, a device's random UUID, so every pushed operation landed on a
random leaf of two B-trees (73 MB each at 1,000,000 rows, against PostgreSQL's default 128 MB of buffers,
which also hold the heads' keys and the revisions' submission ids): a push read and wrote back pages of
each. Nothing reads these ids but by equality (the ledger's look-up of a push's ids, a head's revision), so
on PostgreSQL each is kept unique by an exclusion constraint over a hash index (32 MB at 1,000,000), as a
key would keep it, and the primary key goes: the seq, unique already, identifies a row. A duplicate id is
refused as a key refuses it, with an exclusion violation (SQLSTATE 23P01) where a key raised 23505.
SQLite keeps its keys.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 00:00:00

"""
from alembic import op


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

TABLES = ('sync_ops', 'submission_revisions')


def upgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    for table in TABLES:
        op.drop_constraint(f'pk_{table}', table, type_='primary')
        op.execute(f'ALTER TABLE {table} ADD CONSTRAINT ex_{table}_op_id EXCLUDE USING hash (op_id WITH =)')


def downgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    for table in TABLES:
        op.drop_constraint(f'ex_{table}_op_id', table)
        op.create_primary_key(f'pk_{table}', table, ['op_id'])
