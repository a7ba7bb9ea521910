"""Revisions' op ids not indexed: a revision is found by its submission

Every pushed revision wrote two indexes of random ids: its submission's and its op id's (on PostgreSQL hash
indexes, 0015 and 0016, each 37 MB at 1,000,000 rows; on SQLite B-trees, the op id's its key). The op id's is
dropped here, on both backends. Nothing needs it:
- a head's revision is joined by the submission's index and then picked by op id among that submission's few
  revisions (``server.models.submissions.HEAD_REVISION``), and so are the base revisions a push's corrections
  name (``SqlStore.revision_owners``);
- every op id a push writes is first written to the ledger, where it is kept unique (0016);
- an operation accepted from quarantine writes its revision under its own ledger row's op id, once: the
  acceptance takes the write lock before it looks again at the item, and resolving an item already resolved
  fails (``sync.engine.revalidate_quarantined``, ``SqlStore.resolve_quarantined``);
- a conflict decided in the console writes a revision under an op id it makes (``console-`` and a UUID4).
So three random ids' indexes are left for a push to write: the ledger's op ids, the heads' ids and the
revisions' submission ids. Measured on PostgreSQL with 1,135,200 revisions stored (rolled-back inserts of 100
rows made by ``generate_series``, medians of 300, alternated): 32.3 and 26.7 µs a row with the constraint, 27.5
and 24.9 without. On SQLite each random page a commit changes is also a WAL frame to write and to copy back
(docs/operations.md, the fourteenth session, for both). SQLite copies the table without its key (a copy made
by hand of 1,000,000 revisions took 31 s; this migration's own was not timed at that size).

The downgrade adds the constraint or the key again, which fails if two revisions share an op id.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 14:40:00

"""
from alembic import op


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

CONSTRAINT = 'ex_submission_revisions_op_id'  # PostgreSQL's
KEY = 'pk_submission_revisions'  # SQLite's


def upgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.drop_constraint(CONSTRAINT, 'submission_revisions')
        return
    with op.batch_alter_table('submission_revisions', recreate='always') as batch_op:
        batch_op.drop_constraint(KEY, type_='primary')


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(f'ALTER TABLE submission_revisions ADD CONSTRAINT {CONSTRAINT} EXCLUDE USING hash (op_id WITH =)')
        return
    with op.batch_alter_table('submission_revisions', recreate='always') as batch_op:
        batch_op.create_primary_key(KEY, ['op_id'])
