"""Submissions as the console lists them: head answers with their place, round, enumerator and state.

A submission's district, commune and round are read from its answers (the questions named
``district``, ``commune`` and ``round``, at any depth, as the built-in forms have them); its
enumerator is the owner of the device that sent its first revision. A coordinator sees only
submissions whose district is one of theirs; submissions that name no district, admins only.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from dataclasses import dataclass

from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.console.scope import Scope
from server.models import Device
from server.models import Submission
from server.models import SubmissionRevision
from server.models import User

STATES = ("received", "corrected", "deleted")
PAGE_SIZE = 50
FILTERS = ("form", "version", "round", "district", "commune", "enumerator", "state")


@dataclass
class Record:
    """One submission's head as the console shows it."""

    id: str
    form_id: str
    form_version: str
    device_id: str
    enumerator: str | None
    revisions: int
    deleted: bool
    received_at: dt.datetime
    answers: dict | None
    district: str | None
    commune: str | None
    round: int | None

    @property
    def state(self) -> str:
        return "deleted" if self.deleted else ("corrected" if self.revisions > 1 else "received")


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


def _round(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def enumerators_by_device(session: Session) -> dict[str, str]:
    """Device id (text, as the ledger keeps it) -> its enumerator's user name."""
    return {str(device_id): name for device_id, name in
            session.execute(select(Device.id, User.username).join(User, Device.user_id == User.id))}


def records(session: Session, scope: Scope, *, form_id: str | None = None,
            submission_id: str | None = None) -> list[Record]:
    """Every submission the scope may see (of one form, or one submission), oldest first."""
    first = (select(SubmissionRevision.submission_id, func.min(SubmissionRevision.received_at).label("at"))
             .group_by(SubmissionRevision.submission_id).subquery())
    query = (select(Submission, SubmissionRevision.answers, first.c.at)
             .join(SubmissionRevision, SubmissionRevision.op_id == Submission.head)
             .join(first, first.c.submission_id == Submission.id)
             .order_by(Submission.seq))
    if form_id is not None:
        query = query.where(Submission.form_id == form_id)
    if submission_id is not None:
        query = query.where(Submission.id == submission_id)
    owners = enumerators_by_device(session)
    rows = []
    for head, answers, received_at in session.execute(query):
        if answers is None and head.deleted:
            # a tombstone: its place is that of the revision before
            answers = session.scalar(select(SubmissionRevision.answers)
                                     .where(SubmissionRevision.submission_id == head.id,
                                            SubmissionRevision.answers.is_not(None))
                                     .order_by(SubmissionRevision.seq.desc()).limit(1))
        district = find_value(answers, "district")
        if not scope.sees_district(None if district is None else str(district)):
            continue
        commune = find_value(answers, "commune")
        rows.append(Record(
            id=head.id, form_id=head.form_id, form_version=head.form_version, device_id=head.device_id,
            enumerator=owners.get(head.device_id), revisions=head.revisions, deleted=head.deleted,
            received_at=received_at, answers=answers,
            district=None if district is None else str(district),
            commune=None if commune is None else str(commune), round=_round(find_value(answers, "round"))))
    return rows


def matches(record: Record, choices: dict) -> bool:
    """Whether a record passes every filter given (empty filters pass everything)."""
    checks = {
        "form": record.form_id, "version": record.form_version, "round": str(record.round),
        "district": record.district, "commune": record.commune, "enumerator": record.enumerator,
        "state": record.state,
    }
    return all(not choices.get(name) or str(checks[name]) == str(choices[name]) for name in FILTERS)


@dataclass
class Page:
    """One page of a filtered list, with what the filters can choose from."""

    rows: list[Record]
    total: int
    page: int
    pages: int
    options: dict[str, list[str]]


def page_of(session: Session, scope: Scope, choices: dict, *, page: int = 1,
            size: int = PAGE_SIZE) -> Page:
    """The submissions matching ``choices``, newest first, one page of ``size``."""
    every = records(session, scope, form_id=choices.get("form") or None)
    options = {name: sorted({str(v) for v in values if v is not None}) for name, values in {
        "version": [r.form_version for r in every], "round": [r.round for r in every],
        "district": [r.district for r in every], "commune": [r.commune for r in every],
        "enumerator": [r.enumerator for r in every]}.items()}
    chosen = [r for r in reversed(every) if matches(r, choices)]
    pages = max(1, math.ceil(len(chosen) / size))
    page = min(max(1, page), pages)
    return Page(chosen[(page - 1) * size:page * size], len(chosen), page, pages, options)


def revisions_of(session: Session, submission_id: str) -> list[SubmissionRevision]:
    """A submission's revisions, first to last."""
    return list(session.scalars(select(SubmissionRevision)
                                .where(SubmissionRevision.submission_id == submission_id)
                                .order_by(SubmissionRevision.seq)))


def device_uuid(device_id: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(device_id)
    except ValueError:
        return None
