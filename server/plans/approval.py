"""Who may change and approve a plan, and approval: the plan becomes the round's sample and each
enumerator's assignments (communes, quotas = takes), which reach their devices through the assignment
service's sync bucket in the same transaction.

Who may do what (docs/operations.md, "Round plans"):

* planners and admins propose, edit and approve any plan: a round's sample is drawn city-wide, and its
  inclusion probabilities are only right when the whole draw is accepted or refused as one;
* a coordinator reads plans, chooses the enumerators of the communes in their districts, and approves a
  plan only when every commune it selects lies in their districts (a city-wide plan needs a planner or an
  admin: approving it would assign other coordinators' teams).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.console.scope import Scope
from server.console.scope import scope_of
from server.models import Assignment
from server.models import Round
from server.models import RoundPlan
from server.models import User
from server.models import audit
from server.models import utcnow
from server.models.errors import ServerError
from server.models.reference import ensure_rounds
from server.plans import proposals
from server.sync import assignments as assignment_service

PLANNERS = ("admin", "planner")
READERS = ("admin", "planner", "coordinator")


def reader_scope(session: Session, user: User) -> Scope:
    """What a plan reader sees: planners every district (they have no console scope), others their scope."""
    return Scope(user, None) if user.role == "planner" else scope_of(session, user)


def _plan_districts(row: RoundPlan) -> set[str]:
    return {line.commune.district.code for line in row.communes}


def check_edit(session: Session, user: User, row: RoundPlan, choices: proposals.Choices) -> None:
    """Refuse what ``user`` may not change: coordinators only choose enumerators, in their districts."""
    if user.role in PLANNERS:
        return
    if user.role != "coordinator":
        raise ServerError("forbidden", "Plans are changed by planners, admins and coordinators.")
    design = (choices.interviews, choices.communes, choices.district_communes, choices.certain, choices.takes,
              choices.notes)
    if any(value is not None for value in design):
        raise ServerError("forbidden", "A coordinator chooses the enumerators of their districts' communes; "
                          "the budget, capacity, forced communes and takes are the planner's.")
    districts = scope_of(session, user).districts or frozenset()
    by_key = {line.commune.key: line.commune.district.code for line in row.communes}
    errors = [{"pointer": f"/enumerators/{key}", "detail": f"commune {key!r} is not in your districts"}
              for key in choices.enumerators if key in by_key and by_key[key] not in districts]
    if errors:
        raise ServerError("forbidden", "You may choose enumerators only in your districts.", errors=errors)


def check_approve(session: Session, user: User, row: RoundPlan) -> None:
    """Refuse an approval ``user`` may not give (see the module's rules)."""
    if user.role in PLANNERS:
        return
    if user.role != "coordinator":
        raise ServerError("forbidden", "Plans are approved by planners, admins and coordinators.")
    outside = sorted(_plan_districts(row) - (scope_of(session, user).districts or frozenset()))
    if outside:
        raise ServerError("forbidden", "This plan selects communes outside your districts ("
                          + ", ".join(outside) + "); a planner or an admin approves it.")


def approve(session: Session, plan_id: int | str, *, actor: User | None) -> RoundPlan:
    """Make a draft the round's sample: supersede the round's approved plan (audited), create the round if
    needed, and replace the round's assignments of every enumerator concerned by the plan's communes."""
    row = proposals.get(session, plan_id)
    proposals.require_draft(row)
    if actor is not None:
        check_approve(session, actor, row)
    missing = [{"pointer": f"/enumerators/{line.commune.key}",
                "detail": f"choose an enumerator for {line.commune.name} ({line.commune.key})"}
               for line in row.communes if line.enumerator_id is None]
    if missing:
        raise ServerError("validation-failed", "Every commune of the plan needs an enumerator.",
                          errors=missing)
    actor_id = actor.id if actor else None
    previous = session.scalar(select(RoundPlan).where(RoundPlan.year == row.year,
                                                      RoundPlan.status == "approved"))
    now = utcnow()
    if previous is not None:
        previous.status, previous.superseded_at = "superseded", now
        session.flush()  # before the new approval: one approved plan per round (a unique index)
        audit(session, "plan.supersede", "round_plan", previous.id, user_id=actor_id, cli=actor is None,
              year=row.year, by_plan=row.id)
    ensure_rounds(session, [row.year])
    wanted: dict[int, list[dict]] = {}
    for line in row.communes:
        wanted.setdefault(line.enumerator_id, []).append({"commune": line.commune.key, "quota": line.take})
    # enumerators with communes in the round that the plan does not give them lose those communes:
    # the plan is the round's whole sample
    current = set(session.scalars(select(Assignment.user_id).join(Round).where(Round.year == row.year)))
    names = dict(session.execute(select(User.id, User.username).where(
        User.id.in_(set(wanted) | current))).all())
    for user_id in sorted(set(wanted) | current):
        assignment_service.replace_assignments(session, names[user_id], row.year, wanted.get(user_id, []),
                                               actor=actor)
    row.status, row.approved_by_user_id, row.approved_at = "approved", actor_id, now
    audit(session, "plan.approve", "round_plan", row.id, user_id=actor_id, cli=actor is None, year=row.year,
          communes=len(row.communes), interviews=sum(line.take for line in row.communes),
          superseded=previous.id if previous is not None else None)
    session.flush()
    return row
