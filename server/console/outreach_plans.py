"""Outreach plans: proposed from a survey round (:func:`analysis.outreach_plan.propose_outreach`), edited and
approved.

Who may do what (the console's scope rules, with planners city-wide):
* planners and admins see and edit every district's rows, propose a plan and approve it;
* coordinators see and edit the rows of their districts, and approve a plan only when every district it
  has rows in is theirs (no one approves rows they cannot see);
* an approved plan is frozen (``outreach-plan-approved``): the report compares it with what was done.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from analysis import tidy
from analysis.outreach_plan import CHANNEL_ACTIVITIES
from analysis.outreach_plan import propose_outreach
from analysis.population import communes as census_communes
from analysis.priority import NeedParameters
from analysis.priority import channel_reach
from analysis.priority import place_estimates
from analysis.priority import rank_by_need
from server.console.scope import Scope
from server.console.scope import scope_of
from server.models import OutreachPlan
from server.models import OutreachPlanRow
from server.models import User
from server.models import audit
from server.models import utcnow
from server.models.errors import ServerError
from server.reports import service as reports

PLAN_ROLES = ("admin", "planner", "coordinator")


@dataclass(frozen=True)
class PlanView:
    """A plan and the rows the caller may see."""

    plan: OutreachPlan
    rows: list[OutreachPlanRow]


def number(text: str) -> int:
    """A year or row id from a path: digits only, and small enough for the database's integers; anything
    else names no plan (``not-found``)."""
    if not (text.isascii() and text.isdigit()) or len(text) > 9:
        raise ServerError("not-found", f"No outreach plan or row {text!r}.")
    return int(text)


def plan_scope(session: Session, user: User) -> Scope:
    """Planners and admins see every district; coordinators theirs (the console's rule)."""
    if user.role == "planner":
        return Scope(user, None)
    return scope_of(session, user)


def _plan(session: Session, year: int) -> OutreachPlan:
    plan = session.scalar(select(OutreachPlan).where(OutreachPlan.year == year))
    if plan is None:
        raise ServerError("not-found", f"No outreach plan for {year}.")
    return plan


def _unfrozen(plan: OutreachPlan | None) -> OutreachPlan | None:
    if plan is not None and plan.status == "approved":
        raise ServerError("outreach-plan-approved",
                          f"The outreach plan for {plan.year} is approved and cannot change.")
    return plan


def _draft(session: Session, year: int) -> OutreachPlan:
    return _unfrozen(_plan(session, year))


def plans(session: Session) -> list[OutreachPlan]:
    """Every plan, newest year first."""
    return list(session.scalars(select(OutreachPlan).order_by(OutreachPlan.year.desc())))


def view(session: Session, scope: Scope, year: int) -> PlanView:
    """The plan of ``year`` with the rows of the caller's districts."""
    plan = _plan(session, year)
    return PlanView(plan, [row for row in plan.rows if scope.sees_district(row.district_code)])


def _need_tables(data: reports.Data, round_: int, min_cell: int):
    """Commune and district rankings of ``round_`` (the report's convention) and its channels × groups."""
    exposure = tidy.exposure(data.activities, rounds=[r for r in data.rounds if r <= round_])
    params = NeedParameters(min_n=min_cell)
    ranked = []
    for level, k in (("commune", 10), ("district", 3)):
        places = place_estimates(data.respondents, exposure, year=round_, level=level, params=params)
        usable = int(places[["knowledge", "risk"]].notna().all(axis=1).sum())
        ranked.append(rank_by_need(places, k=max(1, min(k, usable - 1)), params=params, level=level))
    this = data.respondents[data.respondents["round"] == round_].reset_index(drop=True)
    return ranked[0], ranked[1], channel_reach(this, min_n=min_cell)


def propose(session: Session, scope: Scope, data: reports.Data, *, year: int, round_: int, min_cell: int,
            actor: User) -> PlanView:
    """A draft plan for ``year`` from round ``round_``'s estimates; replaces an earlier draft of that year."""
    if not scope.is_admin:
        raise ServerError("forbidden", "A plan for the whole city is proposed by a planner or an admin.")
    if round_ not in data.rounds:
        raise ServerError("not-found", f"No survey round {round_} with respondents.")
    communes, districts, reach = _need_tables(data, round_, min_cell)
    proposal = propose_outreach(reach, districts, communes, year=year)
    plan = _unfrozen(session.scalar(select(OutreachPlan).where(OutreachPlan.year == year)))
    if plan is None:
        plan = OutreachPlan(year=year, status="draft", created_by_user_id=actor.id)
        session.add(plan)
    plan.source_round = round_
    plan.rows = [OutreachPlanRow(district_code=r.district_code, target_group=r.group, channel=r.channel,
                                 communes=list(r.communes), reason=r.reason, reason_vi=r.reason_vi)
                 for r in proposal.itertuples()]
    session.flush()
    audit(session, "outreach_plan.propose", "outreach_plan", plan.id, user_id=actor.id, year=year,
          round=round_, rows=len(plan.rows))
    return view(session, scope, year)


def _check_row(scope: Scope, fields: dict) -> None:
    problems = []
    if not scope.sees_district(fields["district_code"]):
        problems.append({"pointer": "/district",
                         "detail": f"not one of your districts: {fields['district_code']}"})
    if fields["channel"] not in CHANNEL_ACTIVITIES:
        problems.append({"pointer": "/channel",
                         "detail": f"not a channel outreach runs on: {fields['channel']}"})
    places = census_communes()
    known = set(places.loc[places["district_code"] == fields["district_code"], "commune_key"])
    if not known:
        problems.append({"pointer": "/district", "detail": f"no district {fields['district_code']!r}"})
    unknown = [c for c in fields["communes"] if c not in known]
    if known and unknown:
        problems.append({"pointer": "/communes", "detail": "not in the district: " + ", ".join(unknown)})
    if problems:
        raise ServerError("validation-failed", "The plan row is not valid.", errors=problems)


def save_row(session: Session, scope: Scope, year: int, fields: dict, *, actor: User,
             row_id: int | None = None) -> OutreachPlanRow:
    """Add a row (``row_id`` None) or change one, in the caller's districts, while the plan is a draft."""
    plan = _draft(session, year)
    _check_row(scope, fields)
    if row_id is None:
        row = OutreachPlanRow(plan=plan, reason="", reason_vi="")
        session.add(row)
    else:
        row = _row(plan, scope, row_id)
    row.district_code, row.target_group = fields["district_code"], fields["group"]
    row.channel = fields["channel"]
    row.communes = sorted(set(fields["communes"]))
    if "note" in fields:  # a planner's own words replace the proposal's reasons
        row.reason = row.reason_vi = fields["note"]
    session.flush()
    audit(session, "outreach_plan.row", "outreach_plan", plan.id, user_id=actor.id, row=row.id,
          district=row.district_code, group=row.target_group, channel=row.channel)
    return row


def _row(plan: OutreachPlan, scope: Scope, row_id: int) -> OutreachPlanRow:
    for row in plan.rows:
        if row.id == row_id and scope.sees_district(row.district_code):
            return row
    raise ServerError("not-found", f"No row {row_id} in your districts of the {plan.year} plan.")


def delete_row(session: Session, scope: Scope, year: int, row_id: int, *, actor: User) -> None:
    """Remove a row of the caller's districts from a draft."""
    plan = _draft(session, year)
    row = _row(plan, scope, row_id)
    plan.rows.remove(row)
    session.flush()
    audit(session, "outreach_plan.row_delete", "outreach_plan", plan.id, user_id=actor.id, row=row_id)


def approve(session: Session, scope: Scope, year: int, *, actor: User,
            now: dt.datetime | None = None) -> PlanView:
    """Approve the draft of ``year``: the caller must see every district it has rows in."""
    plan = _draft(session, year)
    hidden = sorted({row.district_code for row in plan.rows if not scope.sees_district(row.district_code)})
    if hidden:
        raise ServerError("forbidden",
                          "The plan has rows in districts that are not yours: " + ", ".join(hidden))
    plan.status, plan.approved_at = "approved", now or utcnow()
    plan.approved_by_user_id, plan.approved_role = actor.id, actor.role
    session.flush()
    audit(session, "outreach_plan.approve", "outreach_plan", plan.id, user_id=actor.id, year=year,
          rows=len(plan.rows))
    return view(session, scope, year)

