"""Analysis-ready rows of scored submissions, kept at ingestion so reports never re-parse JSON.

One row per submission head whose form version has scoring keys (the awareness survey), replaced
whenever the head changes and removed when it is deleted. Item points are a float32 vector in the
version's scoring order (NaN when missing); select-multiple choices a uint8 vector in layout order
(0, 1, or 2 for missing): a million respondents load with one ``numpy.frombuffer`` each, instead of
about a minute of JSON parsing. Refusals are kept (``consented`` false) for the response counts.
The typed profile columns are ``analysis.respondent_rows.PROFILE_COLUMNS``, which computes the rows.

A row is keyed by its head's ``seq``, not by the submission's id, and a foreign key ties that seq to the
head's (following it when the head moves on, checked at commit). The key makes one row per head, so one
per submission, without an index on random ids: 100 rows inserted into a copy of a million wrote 15 pages
of this table on SQLite instead of 149, and on PostgreSQL 1-5 full-page images instead of 102 after a
checkpoint (issue 13, docs/operations.md). ``submission_id`` is kept for readers, not indexed: a
submission's row is found through its head.
"""

from __future__ import annotations

from sqlalchemy import BigInteger
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import Integer
from sqlalchemy import LargeBinary
from sqlalchemy import String
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from server.extensions import db
from server.models.types import NullableWrittenJson

_CODE = String(100)


class Respondent(db.Model):
    """The analysis columns of one scored submission's head revision."""

    __tablename__ = "respondents"
    __table_args__ = (Index("ix_respondents_form_version", "form_id", "form_version", "round"),)

    submission_id: Mapped[str] = mapped_column(String(64))
    form_id: Mapped[str] = mapped_column(String(100))
    form_version: Mapped[str] = mapped_column(String(100))
    # The head's seq. On SQLite an INTEGER PRIMARY KEY is the table's rowid: rows append, no second tree.
    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"),
        ForeignKey("submissions.seq", onupdate="CASCADE", ondelete="CASCADE", deferrable=True,
                   initially="DEFERRED"),
        primary_key=True, autoincrement=False)
    round: Mapped[int | None]
    district_code: Mapped[str | None] = mapped_column(String(100))
    commune_key: Mapped[str | None] = mapped_column(String(100))
    consented: Mapped[bool]
    sex: Mapped[str | None] = mapped_column(_CODE)
    age: Mapped[int | None]
    marital: Mapped[str | None] = mapped_column(_CODE)
    education: Mapped[str | None] = mapped_column(_CODE)
    occupation: Mapped[str | None] = mapped_column(_CODE)
    plan_away: Mapped[str | None] = mapped_column(_CODE)
    plan_abroad: Mapped[str | None] = mapped_column(_CODE)
    heard_any: Mapped[str | None] = mapped_column(_CODE)
    channel_main: Mapped[str | None] = mapped_column(_CODE)
    extra: Mapped[dict | None] = mapped_column(NullableWrittenJson)
    points: Mapped[bytes] = mapped_column(LargeBinary)
    choices: Mapped[bytes] = mapped_column(LargeBinary)
