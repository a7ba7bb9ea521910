"""Progress on a round's approved plan: per planned commune, the take against the interviews received."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.console import progress as console_progress
from server.console.scope import Scope
from server.models import User
from server.plans.frames import approved


@dataclass
class PlanLine:
    """One planned commune: its take and the interviews received there so far."""

    key: str
    name: str
    district: str
    take: int
    pi: float
    enumerator: str
    received: int


def plan_progress(session: Session, scope: Scope, year: int) -> list[PlanLine]:
    """Per commune of the round's approved plan in the scope's districts: planned take against received."""
    row = approved(session, year)
    if row is None:
        return []
    received = {line.key: line.received
                for line in console_progress.progress(session, scope, year).communes}
    names = dict(session.execute(select(User.id, User.username).where(
        User.id.in_({line.enumerator_id for line in row.communes}))).all())
    lines = []
    for line in row.communes:
        code = line.commune.district.code
        if not scope.sees_district(code):
            continue
        lines.append(PlanLine(line.commune.key, line.commune.name, code, line.take, line.pi,
                              names.get(line.enumerator_id, ""), received.get(line.commune.key, 0)))
    return sorted(lines, key=lambda x: (x.district, x.name))
