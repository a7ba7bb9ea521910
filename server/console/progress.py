"""Assignments and progress: communes and quotas per enumerator and round (through the assignment
service, so they reach devices by sync), and interviews received against quota, per day.

An interview counts for the commune and round its answers name and for the enumerator whose device
sent it; deleted submissions do not count.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm import selectinload

from forms.places import UNIT_LIST_2019
from server.console import places
from server.console.records import enumerators_by_device
from server.console.records import in_scope
from server.console.scope import Scope
from server.console.scope import check_enumerator
from server.models import Assignment
from server.models import Commune
from server.models import District
from server.models import Round
from server.models import Submission
from server.models import SubmissionPlace
from server.models import UnitList
from server.models import User
from server.models.errors import ServerError
from server.sync import assignments as assignment_service


def communes_in_scope(session: Session, scope: Scope) -> list[Commune]:
    """The 2019 communes of the scope's districts, by district and name."""
    query = (select(Commune).join(UnitList).join(District, Commune.district_id == District.id)
             .where(UnitList.code == UNIT_LIST_2019).options(selectinload(Commune.district))
             .order_by(District.code, Commune.name))
    if not scope.is_admin:
        query = query.where(District.code.in_(scope.districts))
    return list(session.scalars(query))


def rounds(session: Session) -> list[int]:
    return list(session.scalars(select(Round.year).order_by(Round.year)))


def assignments(session: Session, scope: Scope, username: str, year: int) -> list[Assignment]:
    """An enumerator's assignments in a round that lie in the scope's districts."""
    check_enumerator(session, scope, username)
    return [a for a in assignment_service.assignments_of(session, username, year)
            if scope.sees_district(a.commune.district.code)]


def set_quotas(session: Session, scope: Scope, username: str, year: int, quotas: dict[str, int], *,
               actor: User) -> list[Assignment]:
    """Make ``quotas`` (commune key -> interviews; 0 withdraws) the enumerator's communes of the round in
    the scope's districts; communes in other districts stay as they are. Devices get the change by sync."""
    check_enumerator(session, scope, username)
    allowed = {c.key for c in communes_in_scope(session, scope)}
    errors = [{"pointer": f"/communes/{key}", "detail": f"commune {key!r} is not in your districts"}
              for key in quotas if key not in allowed]
    errors += [{"pointer": f"/communes/{key}", "detail": "a quota is a whole number from 0"}
               for key, quota in quotas.items() if quota < 0]
    if errors:
        raise ServerError("validation-failed", "The quotas cannot be saved; see errors.", errors=errors)
    entries = [{"commune": a.commune.key, "quota": a.quota}
               for a in assignment_service.assignments_of(session, username, year)
               if not scope.sees_district(a.commune.district.code)]
    entries += [{"commune": key, "quota": quota} for key, quota in quotas.items() if quota > 0]
    return assignment_service.replace_assignments(session, username, year, entries, actor=actor)


def visible_assignments(session: Session, scope: Scope, username: str, year: int | None) -> list[Assignment]:
    """A user's assignments (of one round, or all) as the scope may read them: all of them for admins;
    for a coordinator, an enumerator they manage and only the communes in their districts."""
    if scope.is_admin:
        return assignment_service.assignments_of(session, username, year)
    check_enumerator(session, scope, username)
    return [a for a in assignment_service.assignments_of(session, username, year)
            if scope.sees_district(a.commune.district.code)]


def replace_in_scope(session: Session, scope: Scope, username: str, year: int, entries: list[dict], *,
                     actor: User) -> list[Assignment]:
    """Replace a user's assignments of a round as the scope may: admins the whole of it; a coordinator
    the communes in their districts (an entry elsewhere is refused; others' communes stay)."""
    if scope.is_admin:
        return assignment_service.replace_assignments(session, username, year, entries, actor=actor)
    target = session.scalar(select(User).where(User.username == username))
    if target is not None and target.role == "enumerator":
        check_enumerator(session, scope, username)
    # Communes that exist but lie in another district are refused here; mistakes in the body (unknown
    # communes, a staff member, an unknown round) are left to the assignment service's checks.
    allowed = {c.key for c in communes_in_scope(session, scope)}
    known = set(session.scalars(select(Commune.key).join(UnitList).where(
        UnitList.code == UNIT_LIST_2019, Commune.key.in_([e["commune"] for e in entries]))))
    errors = [{"pointer": f"/communes/{i}/commune",
               "detail": f"commune {e['commune']!r} is not in your districts"}
              for i, e in enumerate(entries) if e["commune"] in known and e["commune"] not in allowed]
    if errors:
        raise ServerError("forbidden", "You may assign only communes of your districts.", errors=errors)
    kept = [{"commune": a.commune.key, "quota": a.quota}
            for a in assignment_service.assignments_of(session, username, year)
            if not scope.sees_district(a.commune.district.code)]
    return assignment_service.replace_assignments(session, username, year, kept + list(entries), actor=actor)


@dataclass
class Line:
    """One row of a progress table: who or where, the quota, and the interviews received."""

    key: str
    name: str
    district: str
    quota: int
    received: int

    @property
    def share(self) -> float | None:
        return self.received / self.quota if self.quota else None


@dataclass
class Progress:
    year: int
    target: int
    received: int
    districts: list[Line]
    communes: list[Line]
    enumerators: list[Line]
    days: list[tuple[dt.date, int, int]]  # (day, received that day, received up to that day)


def _received(session: Session, scope: Scope, year: int, communes: list[str],
              ) -> tuple[Counter, Counter, Counter]:
    """Interviews of round ``year`` in these communes, counted by the database per commune, enumerator
    and day of receipt (deleted ones left out)."""
    places.refresh(session)
    joined = select(Submission.id).join(SubmissionPlace, SubmissionPlace.submission_id == Submission.id)
    base = in_scope(joined, scope).where(Submission.deleted.is_(False), SubmissionPlace.round == year,
                                         SubmissionPlace.commune.in_(communes))

    def count_by(column):
        grouped = base.with_only_columns(column, func.count()).group_by(column)
        return Counter(dict(session.execute(grouped).all()))

    by_device = count_by(Submission.device_id)
    owners = enumerators_by_device(session)
    by_enumerator: Counter = Counter()
    for device_id, n in by_device.items():
        if device_id in owners:
            by_enumerator[owners[device_id]] += n
    return count_by(SubmissionPlace.commune), by_enumerator, count_by(SubmissionPlace.received_day)


def progress(session: Session, scope: Scope, year: int, *, target: int | None = None) -> Progress:
    """Interviews received against quota in round ``year``, per district, commune, enumerator and day.

    The round's target is ``target`` when the site sets one (``ROUND_TARGETS``), else the sum of quotas.
    """
    communes = {c.key: c for c in communes_in_scope(session, scope)}
    rows = session.execute(select(Assignment, User.username).join(User).join(Round)
                           .where(Round.year == year)
                           .options(selectinload(Assignment.commune))).all()
    quota_commune: Counter = Counter()
    quota_enumerator: Counter = Counter()
    enumerator_district: dict[str, str] = {}
    for assignment, username in rows:
        key = assignment.commune.key
        if key not in communes:
            continue
        quota_commune[key] += assignment.quota
        quota_enumerator[username] += assignment.quota
        enumerator_district.setdefault(username, communes[key].district.code)
    got_commune, got_enumerator, per_day = _received(session, scope, year, list(communes))
    commune_lines = [Line(key, c.name, c.district.code, quota_commune[key], got_commune[key])
                     for key, c in communes.items() if quota_commune[key] or got_commune[key]]
    by_district: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    names = {}
    for line in commune_lines:
        by_district[line.district][0] += line.quota
        by_district[line.district][1] += line.received
    for commune in communes.values():
        names[commune.district.code] = commune.district.name
    district_lines = [Line(code, names[code], code, q, r) for code, (q, r) in sorted(by_district.items())]
    enumerator_lines = [Line(name, name, enumerator_district.get(name, ""), quota_enumerator[name],
                             got_enumerator[name])
                        for name in sorted(set(quota_enumerator) | set(got_enumerator))]
    days, total = [], 0
    for day in sorted(per_day):
        total += per_day[day]
        days.append((dt.date.fromisoformat(day), per_day[day], total))
    return Progress(year, target if target else sum(quota_commune.values()), total, district_lines,
                    commune_lines, enumerator_lines, days)


def chart_svg(report: Progress, *, width: int = 640, height: int = 240, title: str = "") -> str:
    """Interviews received up to each day against the round's target, as an SVG line chart (no script)."""
    left, right, top, bottom = 48, 12, 16, 36
    inner_w, inner_h = width - left - right, height - top - bottom
    peak = max([report.target, report.received, 1])
    days = report.days
    span = max(1, (days[-1][0] - days[0][0]).days) if days else 1

    def x(day):
        return left + (0 if not days else (day - days[0][0]).days / span * inner_w)

    def y(value):
        return top + inner_h - value / peak * inner_h

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
             f'class="chart" aria-label="{_escape(title)}"><title>{_escape(title)}</title>',
             f'<rect x="{left}" y="{top}" width="{inner_w}" height="{inner_h}" fill="#f3f5f7"/>']
    for fraction in (0, 0.5, 1):
        value = round(peak * fraction)
        parts.append(f'<text x="{left - 6}" y="{y(value) + 4:.1f}" text-anchor="end" font-size="11">'
                     f'{value}</text>')
    if report.target:
        parts.append(f'<line x1="{left}" x2="{left + inner_w}" y1="{y(report.target):.1f}" '
                     f'y2="{y(report.target):.1f}" stroke="#b3261e" stroke-dasharray="6 4" '
                     'stroke-width="2"/>')
    if days:
        points = " ".join(f"{x(d):.1f},{y(total):.1f}" for d, _, total in days)
        parts.append(f'<polyline points="{points}" fill="none" stroke="#0b5cad" stroke-width="2.5"/>')
        for d, _, total in days:
            parts.append(f'<circle cx="{x(d):.1f}" cy="{y(total):.1f}" r="3" fill="#0b5cad"/>')
        parts.append(f'<text x="{left}" y="{height - 12}" font-size="11">{days[0][0].isoformat()}</text>')
        parts.append(f'<text x="{left + inner_w}" y="{height - 12}" font-size="11" text-anchor="end">'
                     f'{days[-1][0].isoformat()}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _escape(text: str) -> str:
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;"))
