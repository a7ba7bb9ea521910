"""Enumerators' assignments per round: replaced as a whole by a coordinator, fed to their devices."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm import selectinload

from forms.places import UNIT_LIST_2019
from server.models import Assignment
from server.models import Commune
from server.models import Round
from server.models import UnitList
from server.models import User
from server.models import audit
from server.models.errors import ServerError
from server.sync import buckets


def _enumerator(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise ServerError("not-found", f"No user named {username!r}.")
    return user


def assignments_of(session: Session, username: str, round_year: int | None = None) -> list[Assignment]:
    """Return a user's assignments, of one round or of all, by round and commune key."""
    user = _enumerator(session, username)
    query = (select(Assignment).join(Round).join(Commune).where(Assignment.user_id == user.id)
             .options(selectinload(Assignment.round),
                      selectinload(Assignment.commune).selectinload(Commune.district))
             .order_by(Round.year, Commune.key))
    if round_year is not None:
        query = query.where(Round.year == round_year)
    return list(session.scalars(query))


def _check(session: Session, user: User, round_year: int, entries: list[dict]) -> tuple[Round, dict]:
    """Return the round and the communes by key, or raise one problem listing every mistake."""
    errors = []
    if user.role != "enumerator":
        errors.append({"pointer": "/", "detail": f"{user.username!r} is a {user.role}; "
                       "only enumerators get assignments"})
    round_ = session.scalar(select(Round).where(Round.year == round_year))
    if round_ is None:
        errors.append({"pointer": "/round", "detail": f"no survey round {round_year}"})
    keys = [e["commune"] for e in entries]
    communes = {c.key: c for c in session.scalars(
        select(Commune).join(UnitList).where(UnitList.code == UNIT_LIST_2019, Commune.key.in_(keys))
        .options(selectinload(Commune.district)))}
    seen: set[str] = set()
    for i, key in enumerate(keys):
        if key not in communes:
            errors.append({"pointer": f"/communes/{i}/commune",
                           "detail": f"no commune {key!r} in the 2019 unit list"})
        elif key in seen:
            errors.append({"pointer": f"/communes/{i}/commune", "detail": f"commune {key!r} is listed twice"})
        seen.add(key)
    if errors:
        raise ServerError("validation-failed", "The assignments cannot be saved; see errors.", errors=errors)
    return round_, communes


def replace_assignments(session: Session, username: str, round_year: int, entries: list[dict], *,
                        actor: User | None = None) -> list[Assignment]:
    """Make ``entries`` (``{commune, quota}``) the user's whole assignment for the round.

    Communes left out are withdrawn; each change reaches the enumerator's devices through the
    ``assignments:<user_id>`` bucket in the same transaction.
    """
    user = _enumerator(session, username)
    round_, communes = _check(session, user, round_year, entries)
    wanted = {e["commune"]: e["quota"] for e in entries}
    current = {a.commune.key: a for a in assignments_of(session, username, round_year)}
    before = {key: row.quota for key, row in current.items()}
    for key, row in current.items():
        if key not in wanted:
            session.delete(row)
            buckets.withdraw_assignment(session, user.id, round_year, key)
    for key, quota in wanted.items():
        row = current.get(key)
        if row is None:
            row = Assignment(user_id=user.id, round=round_, commune=communes[key], quota=quota)
            session.add(row)
        else:
            row.quota = quota
        session.flush()
        buckets.publish_assignment(session, row)
    if before != wanted:
        audit(session, "assignment.replace", "user", user.id, user_id=actor.id if actor else None,
              round=round_year, before=before, after=wanted)
    session.flush()
    return assignments_of(session, username, round_year)
