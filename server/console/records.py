"""Submissions as the console lists them: head answers with their place, round, enumerator and state.

A submission's district, commune and round are read from its answers (the questions named
``district``, ``commune`` and ``round``, at any depth, as the built-in forms have them) into
``submission_places`` (``server.console.places``), so lists filter, count and page in SQL; its
enumerator is the owner of the device that sent its first revision. A coordinator sees only
submissions whose district is one of theirs; submissions that name no district, admins only.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import Select
from sqlalchemy import and_
from sqlalchemy import false
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.console import places
from server.console.scope import Scope
from server.models import HEAD_REVISION
from server.models import Device
from server.models import Submission
from server.models import SubmissionPlace
from server.models import SubmissionRevision
from server.models import User

STATES = ("received", "corrected", "deleted")
PAGE_SIZE = 50
#: Submissions an export reads per statement: its memory is bounded by a page, not by the form.
EXPORT_PAGE = 500
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


def enumerators_by_device(session: Session) -> dict[str, str]:
    """Device id (text, as the ledger keeps it) -> its enumerator's user name."""
    return {str(device_id): name for device_id, name in
            session.execute(select(Device.id, User.username).join(User, Device.user_id == User.id))}


def devices_of(session: Session, username: str) -> list[str]:
    """The ids (as text) of an enumerator's devices."""
    return [str(d) for d in session.scalars(select(Device.id).join(User, Device.user_id == User.id)
                                            .where(User.username == username))]


def in_scope(query: Select, scope: Scope) -> Select:
    """``query`` (joined to ``submission_places``) narrowed to the scope's districts."""
    if scope.is_admin:
        return query
    if not scope.districts:
        return query.where(false())
    return query.where(SubmissionPlace.district.in_(sorted(scope.districts)))


def _joined(query: Select) -> Select:
    return query.select_from(Submission).join(SubmissionPlace, SubmissionPlace.submission_id == Submission.id)


def filtered(session: Session, query: Select, choices: dict) -> Select:
    """``query`` with a WHERE for each filter given (empty filters pass everything)."""
    if choices.get("form"):
        query = query.where(Submission.form_id == choices["form"])
    if choices.get("version"):
        query = query.where(Submission.form_version == choices["version"])
    if choices.get("round"):
        wanted = places.as_round(choices["round"])
        query = query.where(SubmissionPlace.round == wanted) if wanted is not None else query.where(false())
    if choices.get("district"):
        query = query.where(SubmissionPlace.district == str(choices["district"]))
    if choices.get("commune"):
        query = query.where(SubmissionPlace.commune == str(choices["commune"]))
    if choices.get("enumerator"):
        query = query.where(Submission.device_id.in_(devices_of(session, choices["enumerator"])))
    state = choices.get("state")
    if state == "deleted":
        query = query.where(Submission.deleted.is_(True))
    elif state == "corrected":
        query = query.where(Submission.deleted.is_(False), Submission.revisions > 1)
    elif state == "received":
        query = query.where(Submission.deleted.is_(False), Submission.revisions == 1)
    elif state:
        query = query.where(false())
    return query


def _records(session: Session, query: Select) -> list[Record]:
    """The records of a query over (Submission, SubmissionPlace), in its order, with their answers."""
    rows = session.execute(query.add_columns(SubmissionRevision.answers)
                           .join(SubmissionRevision, HEAD_REVISION)).all()
    owners = enumerators_by_device(session)
    found = []
    for head, place, answers in rows:
        if answers is None and head.deleted:
            answers = places.last_answers(session, head.id)
        found.append(Record(
            id=head.id, form_id=head.form_id, form_version=head.form_version, device_id=head.device_id,
            enumerator=owners.get(head.device_id), revisions=head.revisions, deleted=head.deleted,
            received_at=place.received_at, answers=answers, district=place.district, commune=place.commune,
            round=place.round))
    return found


def records(session: Session, scope: Scope, *, form_id: str | None = None,
            submission_id: str | None = None) -> list[Record]:
    """Every submission the scope may see (of one form, or one submission), oldest first."""
    places.refresh(session)
    query = in_scope(_joined(select(Submission, SubmissionPlace)), scope).order_by(Submission.seq)
    if form_id is not None:
        query = query.where(Submission.form_id == form_id)
    if submission_id is not None:
        query = query.where(Submission.id == submission_id)
    return _records(session, query)


def _of_form(scope: Scope, form_id: str) -> Select:
    return in_scope(_joined(select(Submission, SubmissionPlace)), scope).where(Submission.form_id == form_id)


def count_of_form(session: Session, scope: Scope, form_id: str) -> int:
    """How many of a form's submissions the scope may see (place rows brought up to date first)."""
    places.refresh(session)
    return session.scalar(_of_form(scope, form_id).with_only_columns(func.count(Submission.id)))


def pages_of_form(session: Session, scope: Scope, form_id: str, *,
                  size: int = EXPORT_PAGE) -> Iterator[list[Record]]:
    """A form's submissions the scope may see, first received first, ``size`` per statement.

    Keyset pages on (first received, id), which a correction does not change: a submission revised
    while an export runs is read once, where ``seq`` would move it behind the cursor and read it twice.
    """
    query = _of_form(scope, form_id).order_by(SubmissionPlace.received_at, Submission.id)
    after = None
    while True:
        page = query
        if after is not None:
            page = page.where(or_(SubmissionPlace.received_at > after[0],
                                  and_(SubmissionPlace.received_at == after[0], Submission.id > after[1])))
        found = _records(session, page.limit(size))
        if found:
            yield found
        if len(found) < size:
            return
        after = (found[-1].received_at, found[-1].id)


def visible_ids(session: Session, scope: Scope, ids: list[str]) -> set[str]:
    """Which of these submissions the scope may see."""
    if not ids:
        return set()
    places.refresh(session)
    query = in_scope(_joined(select(Submission.id)), scope).where(Submission.id.in_(ids))
    return set(session.scalars(query))


@dataclass
class Page:
    """One page of a filtered list, with what the filters can choose from."""

    rows: list[Record]
    total: int
    page: int
    pages: int
    options: dict[str, list[str]]


def _options(session: Session, scope: Scope, form_id: str) -> dict[str, list[str]]:
    """The values each filter can take among the scope's submissions (of one form, when chosen)."""
    base = in_scope(_joined(select(Submission.id)), scope)
    if form_id:
        base = base.where(Submission.form_id == form_id)
    chosen = base.subquery()
    columns = {"version": Submission.form_version, "round": SubmissionPlace.round,
               "district": SubmissionPlace.district, "commune": SubmissionPlace.commune}
    options = {}
    for name, column in columns.items():
        query = (_joined(select(column).distinct()).join(chosen, chosen.c.id == Submission.id)
                 .where(column.is_not(None)))
        options[name] = sorted(str(v) for v in session.scalars(query))
    owners = enumerators_by_device(session)
    devices = session.scalars(select(Submission.device_id).distinct()
                              .join(chosen, chosen.c.id == Submission.id))
    options["enumerator"] = sorted({owners[d] for d in devices if d in owners})
    return options


def page_of(session: Session, scope: Scope, choices: dict, *, page: int = 1,
            size: int = PAGE_SIZE) -> Page:
    """The submissions matching ``choices``, newest first, one page of ``size``: filtered, counted and
    paged by the database."""
    places.refresh(session)
    query = filtered(session, in_scope(_joined(select(Submission, SubmissionPlace)), scope), choices)
    total = session.scalar(query.with_only_columns(func.count(Submission.id)))
    pages = max(1, math.ceil(total / size))
    page = min(max(1, page), pages)
    rows = _records(session, query.order_by(Submission.seq.desc()).offset((page - 1) * size).limit(size))
    return Page(rows, total, page, pages, _options(session, scope, choices.get("form") or ""))


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
