"""Who goes where: a plan's communes shared among each district's enumerators.

By default a district's communes go to the enumerators who worked there in the round the plan is based on
(any earlier round when that one had none), each next commune to whoever has the fewest interviews so far;
the planner or the district's coordinator can change any of them before approval.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import Assignment
from server.models import Commune
from server.models import District
from server.models import Round
from server.models import RoundPlan
from server.models import User


def _district_teams(session: Session, year: int | None) -> dict[str, list[int]]:
    """Enumerators by district code, from the assignments of round ``year`` (every round when None)."""
    query = (select(District.code, Assignment.user_id).join(Commune, Assignment.commune_id == Commune.id)
             .join(District, Commune.district_id == District.id).join(Round, Assignment.round_id == Round.id)
             .join(User, Assignment.user_id == User.id).where(User.active.is_(True)).distinct())
    if year is not None:
        query = query.where(Round.year == year)
    teams: dict[str, list[int]] = defaultdict(list)
    for code, user_id in sorted(session.execute(query).all()):
        teams[code].append(user_id)
    return teams


def fill_defaults(session: Session, row: RoundPlan) -> None:
    """Give each of the plan's communes without an enumerator one from its district's team."""
    last, ever = _district_teams(session, row.based_on), _district_teams(session, None)
    load: dict[int, int] = defaultdict(int)
    for line in row.communes:
        if line.enumerator_id is not None:
            load[line.enumerator_id] += line.take
    for line in sorted(row.communes, key=lambda c: (-c.take, c.commune.key)):
        if line.enumerator_id is not None:
            continue
        code = line.commune.district.code
        team = last.get(code) or ever.get(code) or []
        if team:
            line.enumerator_id = min(team, key=lambda user_id: (load[user_id], user_id))
            load[line.enumerator_id] += line.take


def check_choices(session: Session, row: RoundPlan, enumerators: dict[str, str]) -> list[dict]:
    """Mistakes in ``{commune key: username}``: a commune outside the plan, someone not an enumerator."""
    if not enumerators:
        return []
    planned = {line.commune.key for line in row.communes}
    users = {u.username: u for u in session.scalars(select(User).where(
        User.username.in_([name for name in enumerators.values() if name])))}
    errors = []
    for key, name in enumerators.items():
        if key not in planned:
            errors.append({"pointer": f"/enumerators/{key}", "detail": f"commune {key!r} is not in the plan"})
        elif name and (name not in users or users[name].role != "enumerator" or not users[name].active):
            errors.append({"pointer": f"/enumerators/{key}",
                           "detail": f"{name!r} is not an active enumerator"})
    return errors


def resolve(session: Session, enumerators: dict[str, str]) -> dict[str, int | None]:
    """``{commune key: username}`` as user ids (None where cleared)."""
    ids = dict(session.execute(select(User.username, User.id).where(
        User.username.in_([name for name in enumerators.values() if name]))).all())
    return {key: ids.get(name) if name else None for key, name in enumerators.items()}
