"""Outreach plans over the API: propose one for a year from a survey round, edit its rows, approve it, and
compare the approved plan with the activities logged that year.

Planners and admins act on every district; coordinators on theirs (``server.console.outreach_plans``).
"""

from __future__ import annotations

from flask import Blueprint
from flask import current_app
from marshmallow import Schema
from marshmallow import fields
from marshmallow import validate

from server.api.access import access
from server.api.access import current_principal
from server.api.body import json_body
from server.console import outreach_plans as service
from server.console.outreach_plans import number
from server.extensions import db
from server.models.errors import ServerError
from server.reports import plans as report_plans
from server.reports import service as reports

bp = Blueprint("outreach_plans", __name__, url_prefix="/api/v1/outreach-plans")
YEAR = validate.Range(min=2000, max=2100)


class ProposeSchema(Schema):
    year = fields.Integer(required=True, validate=YEAR)
    round = fields.Integer(required=True, validate=YEAR)


class RowSchema(Schema):
    district = fields.String(required=True, validate=validate.Length(min=1, max=16))
    group = fields.String(required=True, validate=validate.Length(min=1, max=60))
    channel = fields.String(required=True, validate=validate.Length(min=1, max=40))
    communes = fields.List(fields.String(validate=validate.Length(min=1, max=40)), required=True,
                           validate=validate.Length(max=200))
    note = fields.String(validate=validate.Length(max=2000))


def _scope():
    return service.plan_scope(db.session, current_principal().user)


def _plan(plan) -> dict:
    return {"year": plan.year, "status": plan.status, "source_round": plan.source_round,
            "created_at": plan.created_at.isoformat(),
            "approved_at": plan.approved_at.isoformat() if plan.approved_at else None,
            "approved_role": plan.approved_role}


def _row(row) -> dict:
    return {"id": row.id, "district": row.district_code, "group": row.target_group, "channel": row.channel,
            "communes": list(row.communes), "reason": row.reason, "reason_vi": row.reason_vi}


def _view(found) -> dict:
    return {**_plan(found.plan), "rows": [_row(r) for r in found.rows]}


def _fields(body: dict) -> dict:
    values = RowSchema().load(body)
    return {"district_code": values["district"], "group": values["group"], "channel": values["channel"],
            "communes": values["communes"], **({"note": values["note"]} if "note" in values else {})}


@bp.get("")
@access(*service.PLAN_ROLES)
def list_plans():
    """Every outreach plan (year, status, who approved), newest year first."""
    _scope()  # a coordinator without the console's role answers forbidden, as elsewhere
    return {"plans": [_plan(p) for p in service.plans(db.session)]}


@bp.post("")
@access(*service.PLAN_ROLES)
def propose():
    """Propose the draft plan of ``year`` from round ``round``'s estimates (planners and admins)."""
    values = ProposeSchema().load(json_body())
    scope, user = _scope(), current_principal().user
    data = reports.load(db.session, current_app.config["ROUNDS"])
    found = service.propose(db.session, scope, data, year=values["year"], round_=values["round"],
                            min_cell=int(current_app.config["REPORT_MIN_CELL"]), actor=user)
    db.session.commit()
    return _view(found), 201


@bp.get("/<year>")
@access(*service.PLAN_ROLES)
def get_plan(year: str):
    """The plan of ``year`` with the rows of the caller's districts."""
    year = number(year)
    return _view(service.view(db.session, _scope(), year))


@bp.post("/<year>/rows")
@access(*service.PLAN_ROLES)
def add_row(year: str):
    """Add a row (district, target group, channel, communes) to a draft plan."""
    year = number(year)
    row = service.save_row(db.session, _scope(), year, _fields(json_body()), actor=current_principal().user)
    db.session.commit()
    return _row(row), 201


@bp.put("/<year>/rows/<row_id>")
@access(*service.PLAN_ROLES)
def change_row(year: str, row_id: str):
    """Change a row of a draft plan in one of the caller's districts."""
    year, row_id = number(year), number(row_id)
    row = service.save_row(db.session, _scope(), year, _fields(json_body()), actor=current_principal().user,
                           row_id=row_id)
    db.session.commit()
    return _row(row)


@bp.delete("/<year>/rows/<row_id>")
@access(*service.PLAN_ROLES)
def delete_row(year: str, row_id: str):
    """Remove a row of a draft plan in one of the caller's districts."""
    year, row_id = number(year), number(row_id)
    service.delete_row(db.session, _scope(), year, row_id, actor=current_principal().user)
    db.session.commit()
    return "", 204


@bp.post("/<year>/approve")
@access(*service.PLAN_ROLES)
def approve(year: str):
    """Approve the draft plan of ``year``: it is frozen and the next report compares it with what was done."""
    year = number(year)
    found = service.approve(db.session, _scope(), year, actor=current_principal().user)
    db.session.commit()
    return _view(found)


@bp.get("/<year>/comparison")
@access(*service.PLAN_ROLES)
def comparison(year: str):
    """The approved plan of ``year`` beside the activities logged that year, per district × channel."""
    year = number(year)
    scope = _scope()
    review = report_plans.outreach_review(report_plans.approved_outreach(db.session),
                                          reports.load_activities(db.session), year)
    if review.comparison is None:
        raise ServerError("not-found", f"No approved outreach plan for {year}.")
    shown = review.comparison[review.comparison["district_code"].map(scope.sees_district)]
    return {"year": year, "approved_on": review.approved_on.isoformat(), "approved_role": review.approved_by,
            "rows": reports.records(shown.rename(columns={"district_code": "district"}))}
