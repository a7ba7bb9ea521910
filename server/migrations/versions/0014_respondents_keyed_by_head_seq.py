"""Respondents keyed by their head's seq, tied to it by a foreign key, not by the submission's random id

Each row of ``respondents`` is one head's analysis columns. Keyed by the submission's id, every insert took a
leaf of its own in an index of random ids; keyed by the head's seq, rows append. The foreign key (deferred to
commit, following the head's seq) keeps one row per head. Rows whose head is gone are dropped: they are
derived data, and ``flask --app server report reindex`` rebuilds the table from the heads.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 03:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

# SQLite's INTEGER PRIMARY KEY is the rowid itself; BIGINT would be a second tree.
SEQ = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    op.execute('DELETE FROM respondents WHERE NOT EXISTS (SELECT 1 FROM submissions '
               'WHERE submissions.id = respondents.submission_id AND NOT submissions.deleted)')
    op.execute('UPDATE respondents SET seq = (SELECT submissions.seq FROM submissions '
               'WHERE submissions.id = respondents.submission_id)')
    with op.batch_alter_table('respondents', recreate='auto') as batch:
        batch.drop_constraint('pk_respondents', type_='primary')
        batch.alter_column('seq', existing_type=sa.BigInteger(), type_=SEQ, existing_nullable=False)
        batch.create_primary_key('pk_respondents', ['seq'])
        batch.create_foreign_key('fk_respondents_seq_submissions', 'submissions', ['seq'], ['seq'],
                                 onupdate='CASCADE', ondelete='CASCADE', deferrable=True,
                                 initially='DEFERRED')


def downgrade():
    with op.batch_alter_table('respondents', recreate='auto') as batch:
        batch.drop_constraint('fk_respondents_seq_submissions', type_='foreignkey')
        batch.drop_constraint('pk_respondents', type_='primary')
        batch.alter_column('seq', existing_type=SEQ, type_=sa.BigInteger(), existing_nullable=False)
        batch.create_primary_key('pk_respondents', ['submission_id'])
