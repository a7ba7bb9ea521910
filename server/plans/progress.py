"""Progress on a round's approved plan: per planned commune, the take against the interviews received; and
the communes the plan did not draw where interviews arrived anyway (off plan), which the coordinator must
see: each such interview is weighted by the commune's recorded, small inclusion probability, so it weighs a
lot."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from analysis import next_round
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
    #: Interviews in a commune the plan did not draw (take 0): heavily weighted, to be checked with the team.
    off_plan: bool = False

    @property
    def share(self) -> float | None:
        return self.received / self.take if self.take else None


def plan_progress(session: Session, scope: Scope, year: int) -> list[PlanLine]:
    """Per commune of the round's approved plan in the scope's districts: planned take against received;
    then the communes off the plan that received interviews, with the π the plan recorded for them."""
    row = approved(session, year)
    if row is None:
        return []
    received = {line.key: line for line in console_progress.progress(session, scope, year).communes}
    names = dict(session.execute(select(User.id, User.username).where(
        User.id.in_({line.enumerator_id for line in row.communes}))).all())
    lines = []
    for line in row.communes:
        code = line.commune.district.code
        if not scope.sees_district(code):
            continue
        got = received.get(line.commune.key)
        lines.append(PlanLine(line.commune.key, line.commune.name, code, line.take, line.pi,
                              names.get(line.enumerator_id, ""), got.received if got else 0))
    planned = {line.commune.key for line in row.communes}
    recorded = next_round.Plan.from_json(row.plan).frame.set_index("commune_key")["pi"]
    for key, got in received.items():
        if key in planned or not got.received or not scope.sees_district(got.district):
            continue
        lines.append(PlanLine(key, got.name, got.district, 0, float(recorded.get(key, float("nan"))), "",
                              got.received, off_plan=True))
    return sorted(lines, key=lambda x: (x.off_plan, x.district, x.name))
