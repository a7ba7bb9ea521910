"""The ledger indexed by its op ids only: its device and seq indexes dropped

Nothing reads the ledger but by op id (a push's look-up of its operations), yet every push wrote two more
indexes of it: its device's (a B-tree of a few values, 8 MB at 1,000,000 rows) and its seq's (unique, 25 MB).
The seq stays unique without its index: the counter hands each seq out once, and a ledger row's seq is also
its revision's or its quarantined item's, unique where those are stored. Measured on PostgreSQL with
1,000,000 stored, inserting a push's ledger rows took 7.0-7.2 µs a row with both indexes and 5.4 without
(rolled-back transactions of 100-row inserts; docs/operations.md). On SQLite the seq's constraint is part of
the table, so the table is copied without it.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 08:30:00

"""
from alembic import op


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    op.drop_index('ix_sync_ops_device_id', table_name='sync_ops')
    with op.batch_alter_table('sync_ops') as batch_op:
        batch_op.drop_constraint('uq_sync_ops_seq', type_='unique')


def downgrade():
    with op.batch_alter_table('sync_ops') as batch_op:
        batch_op.create_unique_constraint('uq_sync_ops_seq', ['seq'])
    op.create_index('ix_sync_ops_device_id', 'sync_ops', ['device_id'], unique=False)
