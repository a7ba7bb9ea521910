"""Keep ``submission_places`` in step with the submissions: each head's district, commune and round.

Read before each list the console shows, for the heads written since (those whose ``seq`` differs
from the row's), in a short transaction of its own; the lists then filter, count and page in SQL.
"""

from __future__ import annotations

from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from server.models import HEAD_REVISION
from server.models import Submission
from server.models import SubmissionPlace
from server.models import SubmissionRevision

#: Heads read per statement while catching up.
BATCH = 500


def find_value(answers, name: str):
    """The first answer to a question called ``name``, depth first (repeats are not searched)."""
    if not isinstance(answers, dict):
        return None
    if name in answers and not isinstance(answers[name], (dict, list)):
        return answers[name]
    for value in answers.values():
        if isinstance(value, dict):
            found = find_value(value, name)
            if found is not None:
                return found
    return None


def as_round(value) -> int | None:
    """A round year from an answer, or None."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _text(value) -> str | None:
    return None if value is None else str(value)[:100]


def stale_heads(session: Session, limit: int = BATCH) -> list[str]:
    """Ids of submissions whose place row is missing or older than their head."""
    query = (select(Submission.id).outerjoin(SubmissionPlace, SubmissionPlace.submission_id == Submission.id)
             .where(or_(SubmissionPlace.seq.is_(None), SubmissionPlace.seq != Submission.seq))
             .order_by(Submission.seq).limit(limit))
    return list(session.scalars(query))


def last_answers(session: Session, submission_id: str):
    """The answers of a submission's latest revision that has any: a tombstone's place and answers are
    those of the revision it deleted."""
    return session.scalar(select(SubmissionRevision.answers)
                          .where(SubmissionRevision.submission_id == submission_id,
                                 SubmissionRevision.answers.is_not(None))
                          .order_by(SubmissionRevision.seq.desc()).limit(1))


def place_rows(session: Session, ids: list[str]) -> list[dict]:
    """The place rows of these submissions, read from their head (a tombstone: the revision before)."""
    first = (select(SubmissionRevision.submission_id, func.min(SubmissionRevision.received_at).label("at"))
             .where(SubmissionRevision.submission_id.in_(ids))
             .group_by(SubmissionRevision.submission_id).subquery())
    query = (select(Submission.id, Submission.seq, SubmissionRevision.answers, first.c.at)
             .join(SubmissionRevision, HEAD_REVISION)
             .join(first, first.c.submission_id == Submission.id).where(Submission.id.in_(ids)))
    rows = []
    for submission_id, seq, answers, received_at in session.execute(query):
        if answers is None:
            answers = last_answers(session, submission_id)
        rows.append({"submission_id": submission_id, "seq": seq,
                     "district": _text(find_value(answers, "district")),
                     "commune": _text(find_value(answers, "commune")),
                     "round": as_round(find_value(answers, "round")),
                     "received_at": received_at, "received_day": received_at.date().isoformat()})
    return rows


def _upsert(session: Session, rows: list[dict]) -> None:
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(SubmissionPlace).values(rows)
    # Two requests may catch up at once: the later write of the same head is the same row.
    statement = statement.on_conflict_do_update(
        index_elements=[SubmissionPlace.submission_id],
        set_={name: statement.excluded[name] for name in ("seq", "district", "commune", "round",
                                                          "received_at", "received_day")})
    session.execute(statement)


def refresh(session: Session) -> int:
    """Bring every stale place row up to date; return how many were written.

    Ends ``session``'s transaction first when there is work: the rows are written on a writing
    connection of their own (on SQLite a reading transaction cannot become a writer safely).
    """
    if not stale_heads(session, limit=1):
        return 0
    session.commit()
    writer = Session(session.get_bind().execution_options(ferry_write=True))
    written = 0
    try:
        while True:
            ids = stale_heads(writer)
            if not ids:
                break
            rows = place_rows(writer, ids)
            if not rows:
                break  # heads without a revision: nothing to read (never seen; kept from looping)
            _upsert(writer, rows)
            writer.commit()
            written += len(rows)
            if len(ids) < BATCH:
                break
    finally:
        writer.close()
    return written
