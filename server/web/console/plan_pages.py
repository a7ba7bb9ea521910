"""The console's round plans: the proposal with its reasons and expected gain, the edit form, approval.

Planners and admins see every district and may change and approve any plan; coordinators read plans,
choose the enumerators of their districts' communes and approve a plan wholly in their districts
(``server.plans.approval``). A planner's console shows only these pages (the rest is the coordinators').
"""

from __future__ import annotations

from flask import current_app
from flask import g
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for

from analysis.errors import AnalysisError
from server.api.access import page_access
from server.console import progress as console_progress
from server.console.scope import Scope
from server.console.scope import visible_enumerators
from server.extensions import db
from server.models.errors import ServerError
from server.plans import approval
from server.plans import proposals
from server.plans import summary
from server.plans.progress import plan_progress
from server.problems import status_of
from server.web.console import bp
from server.web.console import plan_text  # noqa: F401 - merges the plan pages' strings into the page text


def _scope() -> Scope:
    """A planner reads every district (and has no console scope of their own); others their console scope."""
    if "scope" not in g:
        g.scope = approval.reader_scope(db.session, g.principal.user)
    return g.scope


def _problem(exc) -> dict:
    """A refused action as the page shows it: its code, its detail and the fields it points at."""
    return {"code": exc.code, "detail": getattr(exc, "detail", None) or str(exc),
            "errors": getattr(exc, "errors", None) or []}


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _min_cell() -> int:
    return int(current_app.config["REPORT_MIN_CELL"])


def _plans_page(status: int = 200, **context):
    years = console_progress.rounds(db.session)
    return render_template("console/plans.html", page="plans", scope=_scope(),
                           plans=[summary.brief(r) for r in proposals.listing(db.session)],
                           next_year=(max(years) + 1) if years else 2017,
                           may_propose=_scope().user.role in approval.PLANNERS, **context), status


@bp.get("/plans")
@page_access(*approval.READERS)
def plans():
    """Round plans, newest first, and the form to propose one."""
    return _plans_page()


@bp.post("/plans")
@page_access(*approval.PLANNERS)
def propose_plan():
    """Propose a plan for a round from the last round's priorities and outreach."""
    form = request.form
    choices = proposals.Choices(interviews=_int(form.get("interviews")) or None,
                                communes=_int(form.get("communes")) or None, notes=form.get("notes") or None)
    year = _int(form.get("round"))
    if year is None or not 2000 <= year <= 2100:
        return _plans_page(422, error=_problem(ServerError("validation-failed", "Choose the round's year.")))
    try:
        row = proposals.propose(db.session, year, actor=_scope().user, min_cell=_min_cell(), choices=choices)
    except (ServerError, AnalysisError) as exc:
        db.session.rollback()
        return _plans_page(status_of(exc), error=_problem(exc))
    db.session.commit()
    return redirect(url_for("console.plan", plan_id=row.id), code=303)


def _plan_page(plan_id: str, status: int = 200, **context):
    scope = _scope()
    row = proposals.get(db.session, plan_id)
    user = scope.user
    received = ({line.key: line.received for line in plan_progress(db.session, scope, row.year)}
                if row.status == "approved" else None)
    districts = {line.commune.district.code for line in row.communes}
    may_approve = row.status == "draft" and (user.role in approval.PLANNERS or (
        user.role == "coordinator" and districts <= set(scope.districts or ())))
    return render_template("console/plan.html", page="plans", scope=scope,
                           plan=summary.describe(db.session, row, scope), received=received,
                           may_design=row.status == "draft" and user.role in approval.PLANNERS,
                           may_staff=row.status == "draft", may_approve=may_approve,
                           enumerators=visible_enumerators(db.session, scope),
                           keep_drawn=proposals.KEEP_DRAWN, **context), status


@bp.get("/plans/<plan_id>")
@page_access(*approval.READERS)
def plan(plan_id: str):
    """One plan: each commune's reason, take, inclusion probability and enumerator, the expected gain."""
    return _plan_page(plan_id, saved=request.args.get("saved"))


def _choices(form, user) -> proposals.Choices:
    """The edit form's fields as choices (a coordinator's form carries only enumerators)."""
    enumerators = {name[11:]: value for name, value in form.items() if name.startswith("enumerator-")}
    if user.role not in approval.PLANNERS:
        return proposals.Choices(enumerators=enumerators)
    takes = {name[5:]: _int(value) for name, value in form.items() if name.startswith("take-")}
    current = {name[8:]: _int(value) for name, value in form.items() if name.startswith("shown-t-")}
    changed = {key: (-1 if take is None else take) for key, take in takes.items() if take != current.get(key)}
    certain = [key.strip() for key in form.get("certain", "").replace(",", " ").split() if key.strip()]
    shown = {name[8:]: form.get(name) for name in form if name.startswith("shown-c-")}
    capacity = {code: _int(form.get(f"cap-{code}")) or 0 for code, value in shown.items()
                if form.get(f"cap-{code}") != value}
    return proposals.Choices(interviews=_int(form.get("interviews")), communes=_int(form.get("communes")),
                             district_communes=capacity or None, certain=certain, takes=changed,
                             enumerators=enumerators, notes=form.get("notes", ""))


@bp.post("/plans/<plan_id>")
@page_access(*approval.READERS)
def edit_plan(plan_id: str):
    """Change the budget, capacity, forced communes, takes, enumerators or notes; the plan is re-proposed."""
    user = _scope().user
    choices = _choices(request.form, user)
    try:
        approval.check_edit(db.session, user, proposals.get(db.session, plan_id), choices)
        proposals.edit(db.session, plan_id, choices, actor=user, min_cell=_min_cell())
    except (ServerError, AnalysisError) as exc:
        db.session.rollback()
        if exc.code not in ("validation-failed", "plan-not-draft", "forbidden", "design-invalid"):
            raise
        return _plan_page(plan_id, status_of(exc), error=_problem(exc))
    db.session.commit()
    return redirect(url_for("console.plan", plan_id=plan_id, saved="edit"), code=303)


@bp.post("/plans/<plan_id>/approve")
@page_access(*approval.READERS)
def approve_plan(plan_id: str):
    """Approve the plan: the round's sample and the enumerators' assignments (their phones get them)."""
    try:
        approval.approve(db.session, plan_id, actor=_scope().user)
    except ServerError as exc:
        db.session.rollback()
        if exc.code not in ("validation-failed", "plan-not-draft", "forbidden"):
            raise
        return _plan_page(plan_id, status_of(exc), error=_problem(exc))
    db.session.commit()
    return redirect(url_for("console.plan", plan_id=plan_id, saved="approve"), code=303)
